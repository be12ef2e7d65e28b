-- ept.lua — the gain of EPT over shadow paging on an MMU-heavy workload. VMware, "Performance
-- Evaluation of Intel EPT Hardware Assist", 2009 (Xeon 5500): "up to 48% for MMU-intensive
-- benchmarks". The same kernbench job runs with VT-x + shadow page tables (cpu_mmu =
-- "hw-cpu") and with VT-x + EPT ("hardware") on a Nehalem-class host; the gain is
-- completion(shadow) / completion(EPT) - 1, which must lie in (0, 48%]: a prediction of a
-- bound (no parameter was tuned to it). SPECjbb's TLB-heavy profile is expected slower with
-- EPT ("EPT increases memory access latencies for a few workloads"), a direction.

local work = param("work", 10)

scenario { name = "validation-ept", duration = "60s", warmup = 0, interval = "10s", seed = 1 }

local h = host { name = "xeon", memory = "64GB", hypervisor = esxi { version = "6.7" },
                 cpu = { sockets = 1, cores = 4, threads = 1, ghz = 2.93,
                         model = "westmere-2010" } }
for _, p in ipairs({ "kernbench", "specjbb" }) do
  vm { name = p .. "-shadow", on = h, vcpus = 1, memory = "4GB", guest = "linux64",
       cpu_mmu = "hw-cpu", workload = job { work = work, profile = p } }
  vm { name = p .. "-ept", on = h, vcpus = 1, memory = "4GB", guest = "linux64",
       cpu_mmu = "hardware", workload = job { work = work, profile = p } }
end
