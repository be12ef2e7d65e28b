-- 06-network-pitfalls.lua — lesson 6: why nested ESXi needs promiscuous mode, MAC address
-- changes and forged transmits, and what promiscuous mode costs.
--
-- The physical host's standard vSwitch does not learn MAC addresses: it knows only the MACs of
-- the vNICs plugged into it. The VMs inside a nested ESXi have MACs it has never seen. Three
-- settings of the port group the nested hosts plug into decide what happens (vSphere's
-- defaults for a standard port group are reject / accept / accept; here all three start at
-- "reject" so that one run shows every pitfall):
--   forged_transmits: a frame leaving a nested VM goes out through the nested host's vNIC with
--     the nested VM's MAC as its source, not the vNIC's. "reject" drops it: reason "forged".
--   promiscuous: a frame for a nested VM's MAC is for no vNIC the switch knows. "reject"
--     drops it: reason "unknown_dst". "accept" hands every such frame to every nested host
--     that put its uplink vNIC in promiscuous mode — to the other nested host too, which throws
--     it away: a flood ("flooded" copies, and CPU burnt on them, net_discard_cpu_s).
--   mac_changes: vESX1's management interface (vmk0) kept the MAC of the template it was
--     cloned from, so its effective MAC differs from the MAC vSphere assigned its vNIC.
--     "reject" drops every frame to it: reason "mac_change".
--
-- Flows (see the flow table: delivered, loss_pct): "l2-out" vESX1/vm1 -> client outside;
-- "l2-in" client -> vESX1/vm2; "l2-l2" vESX1/vm1 -> vESX2/vm1 (across the physical vSwitch);
-- "mgmt" the client's request/response with vESX1's management address.
--
-- What to look at: the network figure (plots/network.png): drops over time and by reason.
-- With everything at "reject", every flow is lost and the reasons are named. Then turn the
-- knobs one by one; with all three at "accept" (the seed's settings) every flow is delivered,
-- nothing is dropped on the physical host's vSwitch, and the vnic table shows the price:
-- vESX2's uplink vNIC gets a flooded copy of every frame of the port group that is not its
-- own, which vESX2's vSwitch then drops ("unknown_dst" in the figure).
--
-- Try:  --set forged_transmits=accept, --set promiscuous=accept, --set mac_changes=accept,
--       then all three together.

local promiscuous      = param("promiscuous", "reject")        -- the knobs
local mac_changes      = param("mac_changes", "reject")
local forged_transmits = param("forged_transmits", "reject")

scenario { name = "teaching-06-network-pitfalls", duration = "20s", warmup = "1s",
           interval = "1s", seed = 1 }

local esx = host { name = "esx01", cpu = { sockets = 1, cores = 4, threads = 1, ghz = 2.6 },
                   memory = "128GB", hypervisor = esxi { version = "5.5" },
                   nics = { nic { name = "vmnic1", speed = "1Gbps" } } }

-- The physical host's side: one vSwitch and port group for both nested hosts.
local pg = portgroup { name = "nested", promiscuous = promiscuous, mac_changes = mac_changes,
                       forged_transmits = forged_transmits }
vswitch { name = "vSwitch1", on = esx, uplinks = { "vmnic1" }, portgroups = { pg } }

local l2 = {}
for i = 1, 2 do
  local vesx = vm {
    name = "vESX" .. i, on = esx, vcpus = 2, memory = "16GB", disk = "100GB", guest = "esxi5",
    cpu_mmu = "hardware", expose_hw_virt = true, hypervisor = esxi { version = "5.5" },
    nics = {
      -- vmk0's MAC: on vESX1 the template's, not the one vSphere gave this clone.
      vnic { name = "vnic0", type = "e1000", portgroup = pg,
             guest_mac = i == 1 and "00:50:56:0a:0b:0c" or nil },
      vnic { name = "vnic1", type = "e1000", portgroup = pg },   -- uplink of its own vSwitch
    },
  }
  local inner = portgroup { name = "VM Network" }
  vswitch { name = "vSwitch0", on = vesx, uplinks = { "vnic1" }, portgroups = { inner } }
  l2[i] = {}
  for j = 1, 2 do
    l2[i][j] = vm { name = "vm" .. j, on = vesx, vcpus = 1, memory = "2GB", guest = "linux64",
                    nics = { vnic { portgroup = inner } },
                    workload = cpu { util = 0.2, period = "100ms", dist = "exp" } }
  end
end

local client = external { name = "client", speed = "1Gbps" }

traffic { name = "l2-out", from = l2[1][1], to = client, rate = "10Mbps", pattern = "poisson" }
traffic { name = "l2-in", from = client, to = l2[1][2], rate = "10Mbps", pattern = "poisson" }
traffic { name = "l2-l2", from = l2[1][1], to = l2[2][1], rate = "10Mbps", pattern = "poisson" }
rr { name = "mgmt", from = client, to = "esx01/vESX1/vnic0", rate = 100, size = 200,
     pattern = "poisson" }
