-- Two nested hosts each placed on the other.
scenario { name = "on-cycle", duration = "1min" }
host { name = "esx01", cpu = { cores = 4, ghz = 2.6 }, memory = "64GB" }
vm { name = "a", on = "b", memory = "8GB", hypervisor = esxi { } }
vm { name = "b", on = "a", memory = "8GB", hypervisor = esxi { } }
