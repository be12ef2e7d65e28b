-- A size with a unit nestsim does not know.
scenario { name = "bad-unit", duration = "1min" }
local esx = host { name = "esx01", cpu = { cores = 4, ghz = 2.6 }, memory = "64GB" }
vm { name = "db", on = esx, memory = "32 GiG" }
