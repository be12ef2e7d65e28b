-- l2-slowdown-vs-nested-hosts.lua — how much useful work the L2 VMs of the seed lab get done
-- as nested hosts are added, for each CPU/MMU mode the nested ESXi can run them in: hw-cpu
-- (VT-x with shadow page tables) and hardware (VT-x and EPT). Not software (binary
-- translation): ESXi offers it to no 64-bit guest on Intel CPUs, so the L2 Linux guests would
-- fall back to hw-cpu (`nestsim check` warns). Every L2 VM asks for 60% of its vCPU
-- (l2_util); effective_pct is the share of wall time it spends on its own work, so the drop
-- below 60 is its slowdown.
--
-- Run:  nestsim sweep scenarios/sweeps/l2-slowdown-vs-nested-hosts.lua
-- Plot: nestsim plot results/l2-slowdown-vs-nested-hosts --x nested_hosts --by l2_cpu_mmu
sweep {
  scenario = "../nested-lab.lua",
  axes = { { nested_hosts = { 1, 2, 3, 4 } },
           { l2_cpu_mmu = { "hw-cpu", "hardware" } } },
  ["repeat"] = 3,
  duration = "30s",
  metrics = {
    "mean(kind:vm&layer:2:effective_pct)",   -- useful work, % of one vCPU (asked: 60)
    "mean(kind:vm&layer:2:attr_guest_pct)",  -- share of the L2 VMs' time that is guest work
    "mean(kind:vm&layer:2:%RDY)",            -- waiting for a vCPU of the nested host
  },
}
