-- 05-modes.lua — lesson 5: CPU/MMU virtualization modes (BT, VT-x, EPT) and exit
-- multiplication.
--
-- Three VMs run the same kernel-heavy workload (kernbench: many page faults, page-table
-- updates and system calls), each alone on a core, each in one mode (vSphere's "CPU/MMU
-- Virtualization" setting):
--   "bt"   cpu_mmu = "software": binary translation; the hypervisor rewrites the guest kernel's
--          sensitive instructions and keeps shadow page tables. System calls cost extra, page
--          faults and page-table writes are handled in software, cheaply.
--   "vt"   cpu_mmu = "hw-cpu": VT-x for the CPU, shadow page tables for memory. No system call
--          exits, but every guest page fault and page-table write is a VM exit: expensive.
--   "ept"  cpu_mmu = "hardware": VT-x and EPT (nested paging). Page tables need no exits at
--          all; a TLB miss walks two levels of tables instead (up to 24 memory references).
-- They are 32-bit guests, because binary translation cannot run 64-bit guests on Intel CPUs.
--
-- What the sources say, and what to look at in the attribution figure (plots/attribution.png):
--   - Adams & Agesen (ASPLOS 2006): for kernel-heavy work the software VMM (BT) beats
--     first-generation VT-x with shadow paging: vt's l0_exit slice (about 14%) is twice bt's
--     bt slice (about 7%).
--   - VMware (2009), EPT: MMU-heavy workloads gain from EPT (up to 48%): ept has little
--     l0_exit (about 1%) and a thin page_walk slice (about 3%) instead.
--   - effective_pct (the vm table) orders them: ept > bt > vt.
--
-- The knob is `layer`: 1 puts the three VMs on the physical host; 2 puts them inside a nested
-- ESXi; 3 inside a nested ESXi inside a nested ESXi. Now every exit of the vt and ept VMs is
-- multiplied (1, 9, 73 exits at L0 per guest exit at layers 1, 2, 3, without VMCS shadowing)
-- and a new slice appears, l1_exit: the nested hypervisors' own handlers. The bt VM is
-- translated by the nested ESXi itself and causes no exits to multiply: at layer 2 it beats
-- the hardware modes.
--
-- Try:  --set layer=2, then --set layer=3; --set shadowing=true (VMCS shadowing, Haswell and
--       later: 2 and 17 exits instead of 9 and 73).

local layer     = param("layer", 1)           -- the knob: 1, 2 or 3
local shadowing = param("shadowing", false)   -- VMCS shadowing on the physical CPU

scenario { name = "teaching-05-modes", duration = "60s", warmup = "5s", interval = "1s",
           seed = 1 }

local esx = host { name = "esx01", memory = "64GB", hypervisor = esxi { version = "6.7" },
                   cpu = { sockets = 1, cores = 4, threads = 1, ghz = 2.93,
                           model = "westmere-2010", vmcs_shadowing = shadowing } }

-- The chain of nested ESXi hosts, each exposing VT-x and EPT to the next, with a core for
-- each of the three VMs (and a disk large enough for what runs inside it).
local on = esx
for l = 2, layer do
  on = vm { name = "vESX" .. (l - 1), on = on, vcpus = 3, memory = "32GB",
            disk = (layer - l + 1) * 150 .. "GB", guest = "esxi6", cpu_mmu = "hardware",
            expose_hw_virt = true, hypervisor = esxi { version = "6.7" } }
end

for _, m in ipairs({ { "bt", "software" }, { "vt", "hw-cpu" }, { "ept", "hardware" } }) do
  vm { name = m[1], on = on, vcpus = 1, memory = "4GB", guest = "linux32", cpu_mmu = m[2],
       workload = cpu { util = 1, profile = "kernbench" } }
end
