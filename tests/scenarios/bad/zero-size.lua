-- A host with no memory.
scenario { name = "zero-size", duration = "1min" }
host { name = "esx01", cpu = { cores = 4, ghz = 2.6 }, memory = 0 }
