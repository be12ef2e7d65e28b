-- A VM placed on a VM that runs no hypervisor of its own.
scenario { name = "on-vm-without-hypervisor", duration = "1min" }
local esx = host { name = "esx01", cpu = { cores = 4, ghz = 2.6 }, memory = "64GB" }
local db = vm { name = "db", on = esx, vcpus = 2, memory = "16GB" }
vm { name = "web1", on = db, memory = "4GB" }
