-- 01-one-vm.lua — lesson 1: one VM alone on one physical core.
--
-- The simplest thing a hypervisor does: it time-slices a physical CPU among virtual CPUs. Here
-- there is only one vCPU and one physical core, so nothing competes. The guest is busy `util`
-- of the time (bursts of util x 100 ms, then idle for the rest of each 100 ms).
--
-- What to look at (esxtop's columns, as the host's esxtop would show them):
--   %USED  — the share of one core the VM used: it equals util x 100, because whenever the
--            guest wants the CPU it gets it.
--   %RDY   — ready time, runnable but waiting for a CPU: 0, because no one else is there.
--   %IDLE  — the rest of the time the guest has nothing to do.
-- The cpu figure (plots/cpu.png) draws %USED flat at util x 100 and %RDY flat at 0.
--
-- Try:  nestsim run scenarios/teaching/01-one-vm.lua --set util=0.9 --plot
-- Virtualization overheads are switched off here (overheads = false) so that every number is
-- exact; lessons 4 and 5 are about them.

local util = param("util", 0.5)   -- the knob: how busy the guest is, from 0 to 1

scenario { name = "teaching-01-one-vm", duration = "60s", warmup = "0s", interval = "1s",
           seed = 1, overheads = false }

local esx = host { name = "esx01", cpu = { sockets = 1, cores = 1, threads = 1, ghz = 2.6 },
                   memory = "8GB", hypervisor = esxi { version = "5.5" } }

vm { name = "vm1", on = esx, vcpus = 1, memory = "2GB", guest = "linux64",
     workload = cpu { util = util, period = "100ms", dist = "fixed" } }
