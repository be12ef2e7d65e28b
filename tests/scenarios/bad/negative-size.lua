-- A negative disk size.
scenario { name = "negative-size", duration = "1min" }
local esx = host { name = "esx01", cpu = { cores = 4, ghz = 2.6 }, memory = "64GB" }
vm { name = "db", on = esx, memory = "8GB", disk = "-40GB" }
