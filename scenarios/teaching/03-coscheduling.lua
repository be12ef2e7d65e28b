-- 03-coscheduling.lua — lesson 3: a two-vCPU VM and co-scheduling.
--
-- A guest OS with two CPUs expects both to make progress together: a spin lock held by a
-- stopped vCPU stalls the other one. So ESX co-schedules the vCPUs of one VM:
--   "strict"  (ESX 2.x): the VM's busy vCPUs run together or not at all. While there are not
--             enough free cores for all of them at once, they wait: co-stop (%CSTP).
--   "relaxed" (ESX 3 and later, the default): a vCPU may run alone, but one that gets ahead of
--             its slowest sibling by more than a few milliseconds (the skew threshold, 3 ms
--             here) is co-stopped until the other catches up.
--   "none"    (KVM): every vCPU is scheduled on its own; no co-stop ever.
--
-- The lab: 2 cores; the two-vCPU VM "smp" and two one-vCPU VMs, all busy most of the time, so
-- the smp VM rarely finds both cores free.
--
-- What to look at: the cpu figure (plots/cpu.png), its %CSTP panel: the smp VM's co-stop. With
-- "strict" it is large (the VM waits for two cores at once), with "relaxed" much smaller, with
-- "none" zero. The one-vCPU VMs never co-stop. esxtop sums a VM's vCPUs, so a two-vCPU VM's
-- percentages go up to 200.
--
-- Try:  --set costop=relaxed, then --set costop=none.

local costop = param("costop", "strict")   -- the knob: "strict", "relaxed" or "none"

scenario { name = "teaching-03-coscheduling", duration = "60s", warmup = "5s", interval = "1s",
           seed = 1, overheads = false }

local esx = host { name = "esx01", cpu = { sockets = 1, cores = 2, threads = 1, ghz = 2.6 },
                   memory = "64GB", hypervisor = esxi { version = "5.5", costop = costop } }

vm { name = "smp", on = esx, vcpus = 2, memory = "4GB", guest = "linux64",
     workload = cpu { util = 0.8, period = "100ms", dist = "exp" } }
for i = 1, 2 do
  vm { name = "vm" .. i, on = esx, vcpus = 1, memory = "2GB", guest = "linux64",
       workload = cpu { util = 0.8, period = "100ms", dist = "exp" } }
end
