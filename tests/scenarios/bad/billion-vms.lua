-- A loop that builds a billion VMs.
scenario { name = "billion-vms", duration = "1min" }
local esx = host { name = "esx01", cpu = { cores = 4, ghz = 2.6 }, memory = "64GB" }
for i = 1, 1e9 do
  vm { name = "vm" .. i, on = esx, memory = "1GB" }
end
