-- A VM inside a nested host plugged into a port group of the physical host's vSwitch.
scenario { name = "vnic-on-wrong-switch", duration = "1min" }
local esx = host { name = "esx01", cpu = { cores = 4, ghz = 2.6 }, memory = "64GB",
                   nics = { nic { name = "vmnic0", speed = "1Gbps" } } }
local pg = portgroup { name = "VM Network" }
vswitch { name = "vSwitch0", on = esx, uplinks = { "vmnic0" }, portgroups = { pg } }
local vesx = vm { name = "vESX1", on = esx, vcpus = 2, memory = "16GB", hypervisor = esxi { } }
vm { name = "web1", on = vesx, memory = "2GB", nics = { vnic { portgroup = pg } } }
