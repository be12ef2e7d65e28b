-- A flow to a machine that does not exist.
scenario { name = "traffic-to-nothing", duration = "1min" }
local esx = host { name = "esx01", cpu = { cores = 4, ghz = 2.6 }, memory = "64GB" }
local web = vm { name = "web1", on = esx, memory = "4GB", nics = { vnic { } } }
traffic { from = web, to = "db9", rate = "50Mbps", frame = 1500 }
