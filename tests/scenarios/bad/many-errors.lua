-- Several mistakes: every one is reported, those found while the script runs in the order of
-- the calls, then those found resolving references once it has run.
scenario { name = "many-errors", duration = "ten minutes" }
local esx = host { name = "esx01", cpu = { cores = 8, ghz = "2.6GHz" }, memory = "128GB",
                   nics = { nic { name = "vmnic0", speed = "1Gbps" } } }
host { name = "esx02", cpu = { cores = 0, ghz = 2.6 }, memory = "128GB" }
for i = 1, 2 do
  vm { name = "vESX" .. i, on = esx, vcpus = 4, memory = "32GB", cpu_mmu = "hardwre",
       hypervisor = esxi { version = "5.5", costop = "lazy" } }
end
vm { name = "db", on = esx, memory = "8GB", shares = "medium" }
vm { name = "web1", on = "vESX3", memory = "4GB" }
vswitch { name = "vSwitch1", on = esx, uplinks = { "vmnic1" } }
