-- No scenario { } call.
local esx = host { name = "esx01", cpu = { cores = 4, ghz = 2.6 }, memory = "64GB" }
vm { name = "web1", on = esx, memory = "4GB" }
