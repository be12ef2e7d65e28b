-- A mistake the constructors collect, then a Lua error that ends the script: the collected
-- one is reported first, the Lua error last.
scenario { name = "runtime-error", duration = "1min" }
local esx = host { name = "esx01", cpu = { cores = 4, ghz = 2.6 }, memory = "64 gigs" }
local hosts = nil
for i = 1, #hosts do end
