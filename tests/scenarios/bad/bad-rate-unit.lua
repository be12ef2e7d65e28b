-- A bit rate written in bytes per second, a unit nestsim does not take.
scenario { name = "bad-rate-unit", duration = "1min" }
local esx = host { name = "esx01", cpu = { cores = 4, ghz = 2.6 }, memory = "64GB" }
local web = vm { name = "web1", on = esx, memory = "4GB", nics = { vnic { } } }
local db = vm { name = "db1", on = esx, memory = "4GB", nics = { vnic { } } }
traffic { from = web, to = db, rate = "50MB/s", frame = 1500 }
