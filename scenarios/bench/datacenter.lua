-- datacenter.lua — the CPU model's scaling benchmark (issue 3): `hosts` physical hosts of 32
-- cores (2 sockets x 16 cores, 2 threads each), each running 16 VMs of 4 vCPUs, a quarter of
-- them nested ESXi hosts with 8 one-vCPU VMs of their own. Bursty guests (exponential busy and
-- idle periods) keep every scheduler busy: the nested hosts are overcommitted 2:1 and tick
-- every quantum, the physical ones are not.
--
--   nestsim run scenarios/bench/datacenter.lua --set hosts=1000 --quiet --stats
--   scripts/bench-cpu.sh    (10, 100 and 1,000 hosts, as a Markdown table)

local hosts  = param("hosts", 10)
local util   = param("util", 0.5)      -- busy fraction of every guest vCPU
local period = param("period", "1s")   -- mean busy + idle cycle

scenario {
  name = "datacenter",
  duration = "1min",
  warmup = "0s",
  interval = "10s",
  seed = 1,
}

for h = 1, hosts do
  local esx = host {
    name = string.format("esx%04d", h),
    cpu = { sockets = 2, cores = 16, threads = 2, ghz = 2.6 },
    memory = "1TB",
    hypervisor = esxi { version = "5.5" },
  }
  for v = 1, 16 do
    local name = string.format("vm%02d", v)
    if v % 4 == 0 then
      local nested = vm { name = name, on = esx, vcpus = 4, memory = "32GB", guest = "esxi5",
                          expose_hw_virt = true, hypervisor = esxi { version = "5.5" } }
      for j = 1, 8 do
        vm { name = "l2vm" .. j, on = nested, vcpus = 1, memory = "2GB", guest = "linux64",
             workload = cpu { util = util, period = period, dist = "exp" } }
      end
    else
      vm { name = name, on = esx, vcpus = 4, memory = "16GB", guest = "linux64",
           workload = cpu { util = util, period = period, dist = "exp" } }
    end
  end
end
