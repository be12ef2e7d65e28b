-- nested-lab.lua — the lab nestsim was born from ("The Lab Expandeth (Again!) – Part IV,
-- Nested ESX at Last!", 2014): one physical ESXi 5.5 box with 128 GB running vCenter, AD and
-- four nested ESXi hosts (vESX1..4: 4 vCPUs as 2 x dual-core, 32 GB, 1 TB disk), each on its
-- own standard vSwitch and physical NIC, with a distributed switch across the four. Each
-- nested host runs a few one-vCPU VMs of its own.
--
-- Try:  nestsim run scenarios/nested-lab.lua --set nested_hosts=2 --set l2_util=1

local nested_hosts = param("nested_hosts", 4)   -- vESX1..N
local l2_per_host  = param("l2_per_host", 4)    -- L2 VMs on each nested host
local l2_util      = param("l2_util", 0.6)      -- busy fraction of each L2 vCPU
local l2_active    = param("l2_active", 0.5)    -- share of each L2 VM's memory it keeps busy
local cores        = param("cores", 8)          -- physical cores (2 threads each)
local memory       = param("memory", "128GB")   -- the physical box's memory (nestsim fit
                                                  -- --vary memory: the smallest box that fits)
local with_traffic = param("traffic", true)   -- false: CPU only (the CPU benchmark)
local l2_rate      = param("l2_rate", "50Mbps") -- stream between L2 VMs on different nested hosts
local l2_cpu_mmu   = param("l2_cpu_mmu", "automatic") -- issue 7: the L2 VMs' CPU/MMU mode
                                                  -- (automatic, software, hw-cpu, hardware)

scenario {
  name = "nested-lab",
  duration = "10min",
  warmup = "30s",
  interval = "10s",
  seed = 42,
}

-- One physical NIC for management and one dedicated to each nested host (the article's design).
local pnics = {}
for i = 0, nested_hosts do pnics[#pnics + 1] = nic { name = "vmnic" .. i, speed = "1Gbps" } end

-- The physical box: ESXi 5.5 on one 8-core, 2-thread socket; 128 GB; the disks the article
-- leaves for the physical host after carving out the nested hosts.
local esx = host {
  name = "esx01",
  cpu = { sockets = 1, cores = cores, threads = 2, ghz = 2.6 },
  memory = memory,
  hypervisor = esxi { version = "5.5" },
  nics = pnics,
  datastores = {
    datastore { name = "datastore1", capacity = "5TB", type = "hdd" },
    datastore { name = "ssd1", capacity = "10GB", type = "ssd" },
  },
}

-- Management network for the core services on the physical host.
local mgmt = portgroup { name = "VM Network" }
vswitch { name = "vSwitch0", on = esx, uplinks = { "vmnic0" }, portgroups = { mgmt } }

vm { name = "vcenter", on = esx, vcpus = 2, memory = "8GB", disk = "100GB", guest = "linux64",
     nics = { vnic { portgroup = mgmt } },
     workload = cpu { util = 0.2, period = "1s", dist = "exp" } }
vm { name = "ad", on = esx, vcpus = 1, memory = "2GB", disk = "40GB", guest = "windows64",
     nics = { vnic { portgroup = mgmt } },
     workload = cpu { util = 0.05, period = "1s", dist = "exp" } }

-- The nested hosts, each on a dedicated vSwitch and physical NIC (the article's design), with
-- the port-group security policy nested ESXi needs: promiscuous mode, MAC address changes and
-- forged transmits all accepted.
local nested = {}
for i = 1, nested_hosts do
  local pg = portgroup { name = "vESX" .. i .. "-trunk", vlan = 4095,
                         promiscuous = "accept", mac_changes = "accept",
                         forged_transmits = "accept" }
  vswitch { name = "vSwitch" .. i, on = esx, uplinks = { "vmnic" .. i },
            portgroups = { pg } }
  nested[i] = vm {
    name = "vESX" .. i, on = esx,
    vcpus = 4, cores_per_socket = 2, memory = "32GB", disk = "1TB",
    guest = "esxi5", cpu_mmu = "hardware", expose_hw_virt = true,
    hypervisor = esxi { version = "5.5" },
    nics = { vnic { name = "vnic0", portgroup = pg },    -- management and VM traffic
             vnic { name = "vnic1", portgroup = pg } },  -- the vDS uplink
  }
end

-- The distributed switch across the nested hosts only, one added vNIC each as its uplink.
local tenant = dvportgroup { name = "tenant", vlan = 100 }
dvswitch { name = "vDS-lab", members = nested, uplinks = { "vnic1" }, portgroups = { tenant } }

-- The nested hosts' own VMs: 64-bit Linux guests on the vDS, building software (the
-- kernbench overhead profile, models/virt.c), so the run shows where each L2 VM's time goes:
-- the attr_* columns split it into guest work, L0 and L1 exit handling, extra page walks,
-- waiting and time descheduled below.
local l2 = {}
for i = 1, nested_hosts do
  l2[i] = {}
  for j = 1, l2_per_host do
    l2[i][j] = vm { name = "vm" .. j, on = nested[i], vcpus = 1, memory = "4GB", disk = "40GB",
                    guest = "linux64", cpu_mmu = l2_cpu_mmu,
                    nics = { vnic { portgroup = tenant } },
                    workload = { cpu { util = l2_util, period = "200ms", dist = "exp",
                                       profile = "kernbench" },
                                 mem { active = l2_active } } }
  end
end

-- Traffic between L2 VMs on different nested hosts (issue 5): vm1 of each nested host streams
-- to vm1 of the next one, so every frame crosses the seed's network: the vDS-lab uplink
-- (vnic1), the sender's vSwitch and physical NIC, the physical switch, the receiver's NIC and
-- vSwitch, whose promiscuous port hands it up to the receiving nested host (one flooded copy
-- per frame: the physical host's vSwitch does not know the L2 VMs' MACs). A request/response
-- flow between the first two nested hosts measures the latency of that path.
if with_traffic and nested_hosts > 1 then
  for i = 1, nested_hosts do
    traffic { from = l2[i][1], to = l2[i % nested_hosts + 1][1], rate = l2_rate, frame = 1500,
              pattern = "poisson" }
  end
  rr { from = l2[1][l2_per_host], to = l2[2][l2_per_host], rate = 100, size = 200,
       pattern = "poisson" }
end
