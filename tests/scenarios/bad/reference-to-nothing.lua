-- `on` names a host that does not exist.
scenario { name = "reference-to-nothing", duration = "1min" }
host { name = "esx01", cpu = { cores = 4, ghz = 2.6 }, memory = "64GB" }
vm { name = "web1", on = "esx9", memory = "4GB" }
