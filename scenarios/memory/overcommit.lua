-- overcommit.lua — one ESXi 5.5 host, four guests that together touch more memory than it has:
-- watch the host go through the free-memory states and reclaim, with or without the balloon.
--
-- 16 GB host; four 4 GB guests of one vCPU, each touching all its memory at 16 MB/s and then
-- keeping `active` of it busy. What the host leaves its guests while it stays high:
-- 16384 - 1024 (ESXi itself) - 655 (minFree) - 4 x 48.6 (overheads) = 14510 MB; they touch
-- 16384 MB, 1874 MB more.
-- - balloon = true (VMware Tools in the guests): in the soft state the balloons take 1874 MB of
--   idle memory and nothing is swapped (MCTLSZ grows, SWCUR stays 0).
-- - balloon = false (like a nested ESXi): soft cannot reclaim, the host sinks to hard and low
--   and swaps to the HDD; with active > 0 the random pages it swaps include working sets, and
--   the guests stall (%SWPWT) until their pages are back.
--
-- Try:  nestsim run scenarios/memory/overcommit.lua --set balloon=false --set active=0.5

local balloon = param("balloon", true)
local active  = param("active", 0.25)
local store   = param("swap_on", "hdd")   -- "hdd" or "ssd": where the guests and swap files live

scenario { name = "overcommit", duration = "15min", warmup = "0s", interval = "10s", seed = 1 }

local h = host {
  name = "esx01",
  cpu = { sockets = 1, cores = 4, threads = 2, ghz = 2.6 },
  memory = "16GB",
  hypervisor = esxi { version = "5.5" },
  datastores = { datastore { name = "store", capacity = "1TB", type = store } },
}

for i = 1, 4 do
  vm { name = "vm" .. i, on = h, vcpus = 1, memory = "4GB", disk = "40GB", guest = "linux64",
       balloon = balloon,
       workload = { cpu { util = 1.0 },
                    mem { active = active, footprint = 1.0, touched_rate = "16MB",
                          share = 0, compress = 0 } } }
end
