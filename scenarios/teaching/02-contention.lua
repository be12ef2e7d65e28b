-- 02-contention.lua — lesson 2: more vCPUs than cores, and ready time.
--
-- `vms` one-vCPU VMs, all CPU-bound (busy 100% of the time), share `cores` physical cores. The
-- scheduler gives each VM the same share (they have equal shares) by time-slicing: a VM runs a
-- quantum (50 ms in ESXi), then waits while the others run.
--
-- The arithmetic a student can do first: c cores give c core-seconds per second; N equal
-- CPU-bound VMs split them evenly, so each gets c/N of a core:
--   %USED per VM = c/N x 100, and since the VM is runnable all the time, the rest is waiting:
--   %RDY per VM = (1 - c/N) x 100.
-- With the defaults (4 VMs, 2 cores) that is 50% used and 50% ready. %RDY is the number
-- administrators watch: a vCPU that is ready but not running is a slow VM.
--
-- What to look at: the cpu figure (plots/cpu.png): %USED and %RDY of every VM hover around
-- 50%. The timeline (plots/timeline.png, from --trace) shows the time-slicing itself: which
-- vCPU holds which core, quantum after quantum.
--
-- Try:  --set vms=2 (no contention: %RDY 0), --set vms=3 (66.7% / 33.3%), --set vms=8
--       (25% / 75%).

local vms   = param("vms", 4)     -- the knob: how many CPU-bound one-vCPU VMs
local cores = param("cores", 2)   -- physical cores (no hyper-threading)

scenario { name = "teaching-02-contention", duration = "60s", warmup = "5s", interval = "1s",
           seed = 1, overheads = false }

local esx = host { name = "esx01", cpu = { sockets = 1, cores = cores, threads = 1, ghz = 2.6 },
                   memory = "64GB", hypervisor = esxi { version = "5.5" } }

for i = 1, vms do
  vm { name = "vm" .. i, on = esx, vcpus = 1, memory = "2GB", guest = "linux64",
       workload = cpu { util = 1 } }
end
