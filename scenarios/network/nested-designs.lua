-- nested-designs.lua — why the seed gives every nested host its own vSwitch and physical NIC,
-- and why MAC learning is better still, measured: the same nested lab and traffic on three
-- designs of the physical host's network.
--
--   design = "shared"    one standard vSwitch on the physical host, one port group with
--                        promiscuous mode, MAC changes and forged transmits accepted, shared by
--                        the four nested hosts' vNICs (the quick fix the seed warns about: every
--                        frame is copied to every nested host).
--   design = "seed"      one vSwitch, port group and physical NIC per nested host (the seed's
--                        design): a flood stays inside one nested host's port group, and nested
--                        hosts talk through the physical switch.
--   design = "learning"  one distributed switch on the physical host with MAC learning
--                        (vSphere 6.7+): promiscuous mode off, frames go only where their
--                        destination was learned.
--
-- Traffic: every L2 VM streams `rate` (Poisson, 1500-byte frames) to its twin on the next nested
-- host; every L2 VM sends one ARP-like broadcast a second; a client outside runs
-- request-response (200-byte requests and responses, 1000 per second) with vm1 of vESX1.
--
-- Try:  nestsim run scenarios/network/nested-designs.lua --set design=shared
--       nestsim run scenarios/network/nested-designs.lua --set design=seed
--       nestsim run scenarios/network/nested-designs.lua --set design=learning
-- tests/test-net.c (/net/scenario/nested-designs) builds the same lab and checks the numbers;
-- /net/scenario/lua-file-is-the-tested-lab checks that this file builds that lab.
--
-- What to look at (the three runs side by side: /work/notes/network-table.md):
--   vm table, esx01/vESXn rows, net_discard_cpu_s: CPU each nested host burns on frames it
--     takes in and throws away. shared: ~2.3 s per 10 s (23% of a vCPU, e1000 at 3.4 us a
--     frame); seed: 0; learning: ~0.03 s (only the client's replies, whose MAC it never learns).
--   vnic table, esx01/vESXn/vnic1 "flooded": copies a nested host's uplink got only because it
--     is promiscuous. shared: ~1.0 million (the other hosts' frames too); seed: ~0.34 million
--     (exactly its own VMs' inbound frames: the physical vSwitch does not know L2 MACs); 0 with
--     learning.
--   nic table, esx01/vmnic1 tx_util_pct and tx_queue_full: shared sends every frame out of the
--     one uplink as well (1.6 Gb/s offered to 1 Gb/s): 100% busy, ~500,000 frames dropped.
--   flow table, flow/rr: the client's request-response. shared: ~38% lost, p50 ~12 ms behind
--     the full queue; seed: 0% lost, p50 ~17 us; learning: 0% lost, p50 ~12 us.
--   Every ring-* flow is delivered in all three: the designs differ in waste, not in reach.

local design       = param("design", "seed")
local nested_hosts = param("nested_hosts", 4)
local l2_per_host  = param("l2_per_host", 4)
local rate         = param("rate", "100Mbps")

scenario {
  name = "nested-designs-" .. design,
  duration = "10s",
  warmup = "1s",
  interval = "1s",
  seed = 42,
}

local nics = {}
for i = 1, nested_hosts do nics[i] = nic { name = "vmnic" .. i, speed = "1Gbps" } end
local esx = host {
  name = "esx01",
  cpu = { sockets = 1, cores = 8, threads = 2, ghz = 2.6 },
  memory = "128GB",
  hypervisor = esxi { version = "5.5" },
  nics = nics,
}

-- The physical host's side: the port group each nested host's vNICs plug into.
local outer = {}
if design == "shared" then
  local pg = portgroup { name = "nested", vlan = 4095, promiscuous = "accept",
                         mac_changes = "accept", forged_transmits = "accept" }
  vswitch { name = "vSwitch1", on = esx, uplinks = { "vmnic1" }, portgroups = { pg } }
  for i = 1, nested_hosts do outer[i] = pg end
elseif design == "seed" then
  for i = 1, nested_hosts do
    outer[i] = portgroup { name = "vESX" .. i .. "-trunk", vlan = 4095, promiscuous = "accept",
                           mac_changes = "accept", forged_transmits = "accept" }
    vswitch { name = "vSwitch" .. i, on = esx, uplinks = { "vmnic" .. i },
              portgroups = { outer[i] } }
  end
elseif design == "learning" then
  local pg = dvportgroup { name = "nested", vlan = 4095, promiscuous = "reject",
                           mac_changes = "accept", forged_transmits = "accept" }
  dvswitch { name = "vDS-outer", members = { esx }, uplinks = { "vmnic1" }, portgroups = { pg },
             mac_learning = true }
  for i = 1, nested_hosts do outer[i] = pg end
else
  error("design must be \"shared\", \"seed\" or \"learning\", got " .. tostring(design))
end

-- The nested hosts: e1000 vNICs (the adapter ESXi 5.x guests get), vnic0 for management and
-- vnic1 as the uplink of the distributed switch across them, as in the seed.
local nested = {}
for i = 1, nested_hosts do
  nested[i] = vm {
    name = "vESX" .. i, on = esx,
    vcpus = 4, cores_per_socket = 2, memory = "32GB", disk = "1TB",
    guest = "esxi5", cpu_mmu = "hardware", expose_hw_virt = true,
    hypervisor = esxi { version = "5.5" },
    nics = { vnic { name = "vnic0", type = "e1000", portgroup = outer[i] },
             vnic { name = "vnic1", type = "e1000", portgroup = outer[i] } },
  }
end
local tenant = dvportgroup { name = "tenant", vlan = 100 }
dvswitch { name = "vDS-lab", members = nested, uplinks = { "vnic1" }, portgroups = { tenant } }

local l2 = {}
for i = 1, nested_hosts do
  l2[i] = {}
  for j = 1, l2_per_host do
    l2[i][j] = vm { name = "vm" .. j, on = nested[i], vcpus = 1, memory = "4GB",
                    guest = "linux64",
                    nics = { vnic { type = "vmxnet3", portgroup = tenant } },
                    workload = cpu { util = 0.3, period = "200ms", dist = "exp" } }
  end
end

local client = external { name = "client", speed = "1Gbps", vlan = 100 }

-- The flows are named as tests/test-net.c names them in its hand-built copy of this lab, so
-- that both draw the same random numbers (one stream per flow name): the test checks that this
-- file and its copy give the same frames, copy for copy.
for i = 1, nested_hosts do
  for j = 1, l2_per_host do
    traffic { name = "ring-" .. i .. "-" .. j, from = l2[i][j], to = l2[i % nested_hosts + 1][j],
              rate = rate, frame = 1500, pattern = "poisson" }
    noise { name = "arp-" .. i .. "-" .. j, from = l2[i][j], rate = 1, frame = 60,
            pattern = "poisson" }
  end
end
rr { name = "rr", from = client, to = l2[1][1], rate = 1000, size = 200, pattern = "poisson" }
