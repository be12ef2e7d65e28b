-- turtles.lua — single-level vs nested virtualization overhead, as measured by Ben-Yehuda et
-- al., "The Turtles Project: Design and Implementation of Nested Virtualization", OSDI 2010,
-- Tables 1-2 (Xeon X5570 "Nehalem" 2.93 GHz, KVM, one vCPU, EPT; nested = L2 under an L1 KVM
-- with multi-dimensional paging; "DRW" = direct read/write of the VMCS, which VMCS shadowing
-- gives in hardware). The figures were transcribed from secondary sources (see
-- /work/notes/virt-sources.md): verify against the paper before release.
--
-- Every workload is a job of the same bare-metal work, alone on its own core (no contention,
-- no hyper-threading), so a job's completion time is work / efficiency and the ratio of two
-- completion times is the ratio of the overheads the paper measured:
--   nested/single kernbench  1.145 (calibration)     DRW 1.103 (calibration)
--   nested/single SPECjbb    1.0848 (calibration)    DRW 1.0672 (prediction)
--   netperf: nested penalty more than twice kernbench's and SPECjbb's (qualitative)
-- tests/test-validation.c runs this file and compares.

local work = param("work", 10)  -- bare-metal seconds of each job

scenario { name = "validation-turtles", duration = "60s", warmup = 0, interval = "10s", seed = 1 }

local function xeon(name, shadowing)
  return host { name = name, memory = "64GB", hypervisor = esxi { version = "6.7" },
                cpu = { sockets = 1, cores = 3, threads = 1, ghz = 2.93,
                        model = "westmere-2010", vmcs_shadowing = shadowing } }
end

local profiles = { "kernbench", "specjbb", "netperf" }

-- Single level: each benchmark in a VM on the physical host.
local l1 = xeon("l1", false)
for _, p in ipairs(profiles) do
  vm { name = p, on = l1, vcpus = 1, memory = "4GB", guest = "linux64",
       workload = job { work = work, profile = p } }
end

-- Nested: the same VMs inside a nested hypervisor with exposed VT-x/EPT, without and with
-- VMCS shadowing on the physical CPU.
for _, h in ipairs({ { "l2", false }, { "l2drw", true } }) do
  local box = xeon(h[1], h[2])
  local l1hv = vm { name = "vESX", on = box, vcpus = 3, memory = "32GB", guest = "esxi6",
                    expose_hw_virt = true, hypervisor = esxi { version = "6.7" } }
  for _, p in ipairs(profiles) do
    vm { name = p, on = l1hv, vcpus = 1, memory = "4GB", guest = "linux64",
         workload = job { work = work, profile = p } }
  end
end
