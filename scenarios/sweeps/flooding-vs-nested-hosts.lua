-- flooding-vs-nested-hosts.lua — what promiscuous port groups cost as the lab grows: the same
-- L2 traffic (scenarios/network/nested-designs.lua) on the three designs of the physical
-- host's network, shared (one promiscuous port group for every nested host), seed (one
-- vSwitch, port group and NIC per nested host) and learning (a dvSwitch with MAC learning),
-- for 2 to 4 nested hosts.
--
-- Run:  nestsim sweep scenarios/sweeps/flooding-vs-nested-hosts.lua
-- Plot: nestsim plot results/flooding-vs-nested-hosts --x nested_hosts --by design
sweep {
  scenario = "../network/nested-designs.lua",
  axes = { { nested_hosts = { 2, 3, 4 } },
           { design = { "shared", "seed", "learning" } } },
  ["repeat"] = 3,
  duration = "2s",
  metrics = {
    "sum(kind:vm&layer:1:net_discard_cpu_s)", -- CPU the nested hosts burn on frames not theirs
    "sum(esx01/vESX*/vnic1:flooded)",          -- frames copied to nested uplinks by promiscuity
    "flow/rr:loss_pct",                        -- the client's request-response, % lost
  },
}
