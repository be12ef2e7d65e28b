-- args: --set nested_host=3
-- A --set for a parameter the scenario does not read (a typo of nested_hosts).
local nested_hosts = param("nested_hosts", 4)
local cores = param("cores", 8)
scenario { name = "set-unknown-param", duration = "1min" }
host { name = "esx01", cpu = { cores = cores, ghz = 2.6 }, memory = "64GB" }
