-- 07-memory-overcommit.lua — lesson 7: configured memory is a promise; what happens when the
-- VMs use more than the host has.
--
-- A 16 GB ESXi 5.5 host runs `vms` guests of 4 GB, each touching all of its memory in its first
-- 16 seconds (256 MB/s) and then keeping `active` of it busy. The host needs memory for itself
-- (1 GB here), a small overhead per VM (48.6 MB for a one-vCPU 4 GB VM) and a free reserve,
-- minFree (655 MB on 16 GB). Below minFree it reclaims, in ESXi's order: page sharing (off
-- here: share = 0), ballooning (the guest's balloon driver gives back idle pages; needs
-- VMware Tools), compression (off here: compress = 0), then swapping to disk.
--
-- The knee, by hand: the guests can have 16384 - 1024 - 655 - n x 48.6 MB and want n x 4096 MB,
-- so 3 guests fit (12288 of 14559 MB) and 4 do not (16384 of 14510 MB: 1874 MB short).
--
-- What to look at: the memory figure (plots/memory.png): the host's memory state (high, then
-- soft, hard, low as free memory falls) and each VM's swapped memory; the vm table's
-- mem_balloon_mb, mem_swcur_mb (swapped) and mem_stall_pct (time the guest waits for its
-- swapped pages).
--   vms = 3: nothing happens; the state stays high.
--   vms = 4 with balloon = true: the balloons take about 1.9 GB of idle pages; nothing swaps.
--   vms = 4 with balloon = false (no VMware Tools — or a nested ESXi, which has no balloon
--   driver): the host must swap, the pages it picks include working sets, the guests stall.
--
-- Try:  --set vms=3; --set balloon=false; --set active=0.9 (less idle memory to give back).

local vms     = param("vms", 4)          -- the knob: how many 4 GB guests on the 16 GB host
local balloon = param("balloon", true)   -- does the guest have a balloon driver?
local active  = param("active", 0.5)     -- share of each guest's memory it keeps busy

scenario { name = "teaching-07-memory-overcommit", duration = "90s", warmup = "0s",
           interval = "2s", seed = 1 }

local esx = host { name = "esx01", cpu = { sockets = 1, cores = 4, threads = 2, ghz = 2.6 },
                   memory = "16GB", hypervisor = esxi { version = "5.5" },
                   datastores = { datastore { name = "store", capacity = "1TB", type = "hdd" } } }

for i = 1, vms do
  vm { name = "vm" .. i, on = esx, vcpus = 1, memory = "4GB", disk = "40GB", guest = "linux64",
       balloon = balloon,
       workload = { cpu { util = 1.0 },
                    mem { active = active, footprint = 1.0, touched_rate = "256MB",
                          share = 0, compress = 0 } } }
end
