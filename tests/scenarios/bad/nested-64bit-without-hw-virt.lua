-- The seed's pitfalls: a nested ESXi whose VM does not expose hardware virtualization cannot
-- power on a 64-bit guest (nor a nested ESXi of its own); `nestsim run` refuses, naming the fix.
scenario { name = "no-vhv", duration = "10s" }
local h = host { name = "esx01", cpu = { cores = 8, ghz = 2.6 }, memory = "64GB", hypervisor = esxi { version = "5.5" } }
local v = vm { name = "vESX1", on = h, vcpus = 2, memory = "8GB", guest = "esxi5", hypervisor = esxi { version = "5.5" } }
vm { name = "web01", on = v, vcpus = 1, memory = "1GB", guest = "linux64", workload = cpu { util = 1 } }
vm { name = "old32", on = v, vcpus = 1, memory = "1GB", guest = "linux32", workload = cpu { util = 1 } }
vm { name = "vESX2", on = v, vcpus = 1, memory = "2GB", guest = "esxi5", hypervisor = esxi { version = "5.5" } }
