-- A VM that says nothing about where it runs.
scenario { name = "missing-on", duration = "1min" }
host { name = "esx01", cpu = { cores = 4, ghz = 2.6 }, memory = "64GB" }
vm { name = "web1", memory = "4GB" }
