-- 04-one-nested-layer.lua — lesson 4: the same VM, once on the physical host (L1) and once
-- inside a nested ESXi (L2).
--
-- "vm-l1" runs directly on the physical ESXi. "vESX1" is a VM that runs ESXi itself, with
-- "Expose hardware assisted virtualization to the guest OS" on (expose_hw_virt), and inside
-- it "vm-l2" runs the same workload. Each has a core of its own, so nothing waits: every
-- difference between them is the cost of the extra layer.
--
-- Why the L2 VM is slower: the CPU has one level of hardware virtualization, which the
-- physical ESXi (L0) uses. When the L2 guest does something that traps (an I/O access, an
-- interrupt, a privileged instruction), the exit goes to L0 first, L0 reflects it to the nested
-- ESXi (L1), whose exit handler runs inside a VM: every VMCS read or write it does exits to L0
-- again. One L2 exit becomes many L0 exits ("exit multiplication"), plus the work of the L1
-- handler, plus two-dimensional page walks on TLB misses.
--
-- What to look at:
--   effective_pct (the vm table): useful guest work as a share of one physical core. Both
--     VMs ask for 100%; vm-l1 gets a little less (single-level overhead), vm-l2 clearly less.
--     With the kernbench profile the ratio is the Turtles paper's (OSDI 2010) 1.145: a build
--     takes 14.5% longer nested than single-level.
--   The attribution figure (plots/attribution.png) splits vm-l2's time: guest work, L0 exit
--     handling (l0_exit), the nested hypervisor's own exit handling (l1_exit), extra page
--     walks (page_walk). The same columns (attr_*_pct) are in the run's second table for
--     both VMs.
--
-- Try:  --set profile=specjbb (fewer exits: a smaller gap), --set profile=netperf (an I/O
--       exit per packet: a much larger one), --set profile=cpu-only (almost no gap).

local profile = param("profile", "kernbench")   -- the knob: the guest's workload profile

scenario { name = "teaching-04-one-nested-layer", duration = "60s", warmup = "5s",
           interval = "1s", seed = 1 }

local esx = host { name = "esx01", memory = "64GB", hypervisor = esxi { version = "6.7" },
                   cpu = { sockets = 1, cores = 4, threads = 1, ghz = 2.93,
                           model = "westmere-2010" } }

vm { name = "vm-l1", on = esx, vcpus = 1, memory = "4GB", guest = "linux64",
     workload = cpu { util = 1, profile = profile } }

local vesx = vm { name = "vESX1", on = esx, vcpus = 2, memory = "16GB", disk = "100GB",
                  guest = "esxi6",
                  cpu_mmu = "hardware", expose_hw_virt = true,
                  hypervisor = esxi { version = "6.7" } }
vm { name = "vm-l2", on = vesx, vcpus = 1, memory = "4GB", guest = "linux64",
     workload = cpu { util = 1, profile = profile } }
