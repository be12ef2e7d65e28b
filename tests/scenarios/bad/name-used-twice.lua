-- Two VMs of one name on the same host.
scenario { name = "name-used-twice", duration = "1min" }
local esx = host { name = "esx01", cpu = { cores = 4, ghz = 2.6 }, memory = "64GB" }
vm { name = "web", on = esx, memory = "4GB" }
vm { name = "web", on = esx, memory = "4GB" }
