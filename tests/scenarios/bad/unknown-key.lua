-- A misspelt key: vm has 'vcpus', not 'vcpu'.
scenario { name = "unknown-key", duration = "1min" }
local esx = host { name = "esx01", cpu = { cores = 4, ghz = 2.6 }, memory = "64GB" }
vm { name = "web1", on = esx, vcpu = 2, memory = "4GB" }
