-- args: --set nested_hosts=four
-- A --set value that is not a number, for a parameter whose default is one.
local nested_hosts = param("nested_hosts", 4)
scenario { name = "set-bad-value", duration = "1min" }
host { name = "esx01", cpu = { cores = 4, ghz = 2.6 }, memory = "64GB" }
