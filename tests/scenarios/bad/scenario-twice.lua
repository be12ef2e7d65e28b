-- scenario { } called twice.
scenario { name = "scenario-twice", duration = "1min" }
host { name = "esx01", cpu = { cores = 4, ghz = 2.6 }, memory = "64GB" }
scenario { name = "again", duration = "2min" }
