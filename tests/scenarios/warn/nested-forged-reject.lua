-- A nested ESXi host on a port group left at its security defaults, except forged transmits
-- rejected: the frames its L2 VMs send leave through its vNIC with their own source MACs
-- (forged, as the physical host's vSwitch sees them) and are dropped, and frames for them never
-- reach it (not promiscuous). `nestsim check` says its network does not fit (exit 3) and names
-- both settings to change.
scenario { name = "nested-forged-reject", duration = "1min" }
local esx = host { name = "esx01", cpu = { cores = 8, ghz = 2.6 }, memory = "64GB",
                   hypervisor = esxi { version = "6.7" },
                   nics = { nic { name = "vmnic1", speed = "1Gbps" } } }
local pg = portgroup { name = "nested", vlan = 4095, forged_transmits = "reject" }
vswitch { name = "vSwitch1", on = esx, uplinks = { "vmnic1" }, portgroups = { pg } }
local vesx = vm { name = "vESX1", on = esx, vcpus = 2, memory = "16GB", guest = "esxi6",
                  expose_hw_virt = true, hypervisor = esxi { version = "6.7" },
                  nics = { vnic { name = "vnic0", portgroup = pg } } }
local lan = portgroup { name = "VM Network" }
vswitch { name = "vSwitch0", on = vesx, uplinks = { "vnic0" }, portgroups = { lan } }
vm { name = "web1", on = vesx, memory = "2GB", guest = "linux64",
     nics = { vnic { portgroup = lan } } }
-- A run shows the consequence: every frame of this flow is dropped with reason "forged".
external { name = "client", speed = "1Gbps" }
traffic { from = "web1", to = "client", rate = "1Mbps", frame = 1000 }
