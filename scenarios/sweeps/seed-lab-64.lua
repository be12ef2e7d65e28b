-- seed-lab-64.lua — issue 7's performance yardstick: 64 runs of the seed lab
-- (scenarios/nested-lab.lua) of 10 simulated minutes each: 1 to 4 nested hosts x two L2 loads
-- x 8 repetitions. Time it with -j 1 and -j 2 for the speed-up from a second worker.
--
-- Run:  time nestsim sweep scenarios/sweeps/seed-lab-64.lua -j 2
sweep {
  scenario = "../nested-lab.lua",
  axes = { { nested_hosts = { 1, 2, 3, 4 } }, { l2_util = { 0.3, 0.6 } } },
  ["repeat"] = 8,
  duration = "10min",
  metrics = {
    "mean(kind:vm&layer:2:effective_pct)",
    "esx01:%USED",
  },
}
