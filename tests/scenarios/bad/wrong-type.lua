-- A count written as a word.
scenario { name = "wrong-type", duration = "1min" }
local esx = host { name = "esx01", cpu = { cores = 4, ghz = 2.6 }, memory = "64GB" }
vm { name = "vESX1", on = esx, vcpus = "four", memory = "32GB",
     hypervisor = esxi { version = "5.5" } }
