-- l2-slowdown-vs-active-memory.lua — the knee of scenarios/memory/nested-active.lua: four
-- nested hosts full of guests on the seed's 128 GB box, each guest keeping `active` of its
-- memory busy. Past active = 0.90 (the hand computation in that file) the box must compress
-- and swap nested hosts that have no balloon driver, and their guests stall.
--
-- Run:  nestsim sweep scenarios/sweeps/l2-slowdown-vs-active-memory.lua
-- Plot: nestsim plot results/l2-slowdown-vs-active-memory --x active
sweep {
  scenario = "../memory/nested-active.lua",
  axes = { active = { 0.5, 0.7, 0.85, 0.9, 0.95, 1.0 } },
  ["repeat"] = 2,
  duration = "30s",
  metrics = {
    "mean(kind:vm&layer:2:mem_stall_pct)",  -- % of time the guests wait for their memory
    "mean(kind:vm&layer:2:effective_pct)",  -- useful work, % of one vCPU (asked: 100)
  },
}
