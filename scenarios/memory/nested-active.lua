-- nested-active.lua — the seed's planning question, "four 32 GB nested hosts on a box with
-- 128 GB for everything", asked of memory: how active may the nested hosts' guests be before
-- the box swaps them, and what does it cost them then?
--
-- The box and its nested hosts are the seed lab's (scenarios/nested-lab.lua): ESXi 5.5 on
-- 128 GB, vCenter (8 GB) and AD (2 GB) beside four nested ESXi 5.5 hosts of 4 vCPUs and
-- 32 GB, each with its 1 TB disk on the 5 TB HDD datastore and a 15 GB vSAN disk on the 10 GB
-- SSD. Here each nested host is filled with eight 4 GB guests, 32 GB in all, and every guest
-- touches `active` of its memory and keeps all of that busy (footprint = working set, as in a
-- freshly booted lab).
--
-- Where the knee is, by hand (models/mem.c has the numbers' sources):
--   each nested host has 32768 - 1024 (its own ESXi) - 942 (minFree) - 8 x 48.6 (overheads)
--   = 30413 MB for its guests: they fit up to active = 30413 / 32768 = 0.93;
--   the box has 131072 - 1024 - 1925 (minFree) - 1211 (overheads) = 126912 MB; a nested
--   host takes its guests' memory plus 1413 MB (its own ESXi and its guests' overheads), and
--   vCenter and AD (no working set) can be ballooned down to 35% of their 10 GB, 3584 MB: the
--   box keeps every working set up to active = (126912 - 3584 - 4 x 1413) / (4 x 32768)
--   = 0.90, the knee.
-- Below the knee nothing is reclaimed from the nested hosts. Above it the box must take
-- memory from nested hosts that have no balloon driver, so it compresses and swaps their
-- pages at random — all of them someone's working set — to the HDD, and their guests stall.
--
-- Try:  nestsim check scenarios/memory/nested-active.lua --set active=0.95
--       nestsim run scenarios/memory/nested-active.lua --set active=0.5
-- A sweep over active = 0.5, 0.6, ..., 0.9, 0.92, 0.94, 0.96, 0.98, 1.0 plots the knee:
-- the guests' mem_stall_pct and the box's mem_state_worst against active.

local active       = param("active", 0.5)       -- share of each guest's memory it keeps busy
local nested_hosts = param("nested_hosts", 4)
local l2_per_host  = param("l2_per_host", 8)
local l2_util      = param("l2_util", 1.0)      -- busy fraction of each guest's vCPU
local rate         = param("touched_rate", "64MB") -- working set touched per second of execution
local vsan         = param("vsan_provisioning", "thin")

scenario {
  name = "nested-active",
  duration = "10min",
  warmup = "2min",    -- the guests first touch their memory at `rate`: 4 GB in a minute
  interval = "10s",
  seed = 42,
}

local esx = host {
  name = "esx01",
  cpu = { sockets = 1, cores = 8, threads = 2, ghz = 2.6 },
  memory = "128GB",
  hypervisor = esxi { version = "5.5" },
  nics = { nic { name = "vmnic0", speed = "1Gbps" } },
  datastores = {
    datastore { name = "datastore1", capacity = "5TB", type = "hdd" },
    datastore { name = "ssd1", capacity = "10GB", type = "ssd" },
  },
}

local mgmt = portgroup { name = "VM Network" }
vswitch { name = "vSwitch0", on = esx, uplinks = { "vmnic0" }, portgroups = { mgmt } }

vm { name = "vcenter", on = esx, vcpus = 2, memory = "8GB", disk = "100GB", guest = "linux64",
     nics = { vnic { portgroup = mgmt } },
     workload = cpu { util = 0.2, period = "1s", dist = "exp" } }
vm { name = "ad", on = esx, vcpus = 1, memory = "2GB", disk = "40GB", guest = "windows64",
     nics = { vnic { portgroup = mgmt } },
     workload = cpu { util = 0.05, period = "1s", dist = "exp" } }

for i = 1, nested_hosts do
  local pg = portgroup { name = "vESX" .. i .. "-trunk", vlan = 4095, promiscuous = "accept",
                         mac_changes = "accept", forged_transmits = "accept" }
  vswitch { name = "vSwitch" .. i, on = esx, portgroups = { pg } }
  local n = vm {
    name = "vESX" .. i, on = esx, vcpus = 4, cores_per_socket = 2, memory = "32GB",
    guest = "esxi5", cpu_mmu = "hardware", expose_hw_virt = true,
    hypervisor = esxi { version = "5.5" },
    disks = { disk { size = "1TB", datastore = "datastore1" },
              disk { size = "15GB", datastore = "ssd1", provisioning = vsan } },
    nics = { vnic { portgroup = pg } },
  }
  for j = 1, l2_per_host do
    vm { name = "vm" .. j, on = n, vcpus = 1, memory = "4GB", disk = "40GB", guest = "linux64",
         workload = { cpu { util = l2_util, period = "200ms", dist = "exp" },
                      mem { active = active, footprint = active, touched_rate = rate } } }
  end
end
