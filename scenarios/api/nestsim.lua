---@meta nestsim
-- nestsim.lua — the scenario API of nestsim for editors: LuaLS (lua-language-server) annotations
-- of every constructor, every key of its table, the key's type, unit and allowed values, so that
-- an editor completes and checks scenarios. Nothing here runs: nestsim's loader (src/scn.c)
-- defines these functions in a sandbox. scenarios/.luarc.json points editors at this folder.
--
-- Conventions: each constructor NAME takes one table of class `nestsim.NAME` (nested tables:
-- `nestsim.host.cpu`, `nestsim.scenario.network`); tests/test-scn-api.c fails when a class's
-- fields and the keys src/scn.c accepts differ, or a constructor is missing on either side.
-- Units: sizes are "32GB", "512MB", "1TB" (powers of 1024) or a number of bytes; times "50ms",
-- "10s", "10min" or a number of seconds; frequencies "2.6GHz" or a number (GHz for cpu.ghz,
-- MHz for reservation and limit); bit rates "1Gbps", "50Mbps" (powers of 1000) or bit/s.
-- Every mistake is reported with file:line, object and key; nothing is ever silently ignored.

---@alias nestsim.Size string|integer        # "32GB", "1TB" (powers of 1024), or bytes
---@alias nestsim.Time string|number         # "50ms", "10s", "10min", or seconds
---@alias nestsim.BitRate string|number      # "1Gbps", "50Mbps" (powers of 1000), or bit/s
---@alias nestsim.Mhz string|number          # "2GHz", "1500MHz", or MHz
---@alias nestsim.Policy "accept"|"reject"|boolean  # true = "accept"
---@alias nestsim.Ref string                 # a name ("vESX1") or a path ("esx01/vESX1")
---@alias nestsim.GuestId "other32"|"other64"|"linux32"|"linux64"|"windows32"|"windows64"|"esxi4"|"esxi5"|"esxi6"|"esxi7"|"esxi8"
---@alias nestsim.Profile "idle"|"cpu-only"|"kernbench"|"specjbb"|"netperf"|"forkwait"
---@alias nestsim.CpuModel "p4-2006"|"core2-2008"|"westmere-2010"|"skylake-2015"|"p4"|"prescott"|"netburst"|"core2"|"penryn"|"nehalem"|"westmere"|"skylake"|"recent"
---@alias nestsim.EsxiVersion "4.0"|"4.1"|"5.0"|"5.1"|"5.5"|"6.0"|"6.5"|"6.7"|"7.0"|"8.0"

-- Objects the constructors return: pass them to other constructors (`on = esx`,
-- `portgroup = pg`, `hypervisor = esxi { }`). Their fields cannot be read or written.
---@class nestsim.Host
---@class nestsim.VM
---@class nestsim.Hypervisor
---@class nestsim.Workload
---@class nestsim.MemWorkload
---@class nestsim.Nic
---@class nestsim.Vnic
---@class nestsim.Datastore
---@class nestsim.Disk
---@class nestsim.Portgroup
---@class nestsim.Dvportgroup
---@class nestsim.Vswitch
---@class nestsim.Dvswitch
---@class nestsim.External
---@class nestsim.Flow

-- ---- The run ---------------------------------------------------------------------------------

---@class nestsim.scenario
---@field name? string Names the results folder (letters, digits, '.', '_', '-'); default: the file's name
---@field duration nestsim.Time Required. Simulated time measured after warm-up (--duration overrides)
---@field warmup? nestsim.Time Simulated time before measuring starts; default 0
---@field seed? integer Run seed, >= 0; default 1 (--seed overrides)
---@field interval? nestsim.Time Length of one metrics.csv row, >= 1ms; default duration/60 in whole seconds, >= 1 s
---@field overheads? boolean false turns every virtualization overhead off; default true
---@field overhead_mode? "fluid"|"discrete" Overheads as rates x costs (fluid, default) or as discrete exits
---@field network? nestsim.scenario.network Parameters of the network model

---@class nestsim.scenario.network
---@field vmxnet3_frame? nestsim.Time CPU per frame of a vmxnet3 vNIC; default 2us (assumption)
---@field e1000_frame? nestsim.Time CPU per frame of an e1000 vNIC; default 2us + 2 exits
---@field queue? integer Frames a physical link queue holds, >= 0; default 1000
---@field propagation? nestsim.Time Propagation delay of physical links; default 0
---@field pswitch_aging? nestsim.Time Physical switch MAC aging, > 0; default 300s
---@field learn_aging? nestsim.Time dvswitch MAC learning aging, > 0; default 600s
---@field learn_limit? integer MACs learned per port, >= 1; default 4096
---@field learn_limit_policy? "allow"|"drop" What happens to a frame from a MAC past the limit; default "allow"
---@field flood_unknown? boolean MAC learning floods unknown unicast; default true

--- The run: its name, duration, warm-up, seed and metrics interval. Call it once.
---@param t nestsim.scenario
function scenario(t) end

--- A scenario parameter, typed by its default: `--set name=value` overrides it (a number, a
--- string, or true/false like the default). Returns the value to use.
---@generic T: number|string|boolean
---@param name string Letters, digits and '_', starting with a letter or '_'
---@param default T
---@return T
function param(name, default) end

-- ---- Hosts and hypervisors -------------------------------------------------------------------

---@class nestsim.host
---@field name string Required. Unique among hosts; the first element of every path
---@field cpu nestsim.host.cpu Required. The physical CPU
---@field memory nestsim.Size Required. Physical memory, > 0
---@field hypervisor? nestsim.Hypervisor esxi { } or kvm { }; default esxi { version = "6.7" }
---@field nics? nestsim.Nic[] Physical NICs, nic { } each
---@field datastores? nestsim.Datastore[] Datastores, datastore { } each

---@class nestsim.host.cpu
---@field sockets? integer 1..64; default 1
---@field cores integer Required. Cores per socket, 1..1024
---@field threads? integer Hardware threads per core, 1..8 (2 = hyper-threading); default 1
---@field ghz number|string Required. Clock: a number of GHz (2.6) or "2.6GHz"
---@field model? nestsim.CpuModel Overhead preset (exit costs, EPT, VMCS shadowing); default "westmere-2010"
---@field vt? boolean VT-x available (false: disabled in the BIOS); default: the model's
---@field ept? boolean EPT (nested paging) available; default: the model's
---@field vmcs_shadowing? boolean VMCS shadowing (Haswell and later); default: the model's
---@field auto_bt_32bit? number Cost override, >= 0 (1: automatic mode runs 32-bit guests with BT)
---@field exit_cycles? number Cycles of one VM exit + entry round trip, >= 0
---@field hw_pf_cycles? number Cycles of a guest page fault under VT-x with shadow paging, >= 0
---@field hw_ptu_cycles? number Cycles of a guest page-table update under VT-x with shadow paging, >= 0
---@field hw_ctxsw_cycles? number Cycles of a guest context switch (CR3 load) under VT-x with shadow paging, >= 0
---@field hw_io_cycles? number Cycles of an I/O exit under VT-x, >= 0
---@field hw_intr_cycles? number Cycles of an interrupt under VT-x, >= 0
---@field hw_priv_cycles? number Cycles of another privileged operation under VT-x, >= 0
---@field bt_syscall_cycles? number Extra cycles of a system call under binary translation, >= 0
---@field bt_pf_cycles? number Cycles of a page fault under binary translation, >= 0
---@field bt_ptu_cycles? number Cycles of a page-table update under binary translation, >= 0
---@field bt_ctxsw_cycles? number Cycles of a context switch under binary translation, >= 0
---@field bt_io_cycles? number Cycles of an I/O access under binary translation, >= 0
---@field bt_intr_cycles? number Cycles of an interrupt under binary translation, >= 0
---@field bt_priv_cycles? number Cycles of another privileged operation under binary translation, >= 0
---@field walk_refs_native? number Memory references of a native TLB-miss walk, >= 0
---@field walk_refs_2d? number Memory references of a two-dimensional (EPT) walk, >= 0
---@field walk_ref_cycles? number Cycles per extra walk reference, >= 0
---@field vmcs_accesses_per_exit? number VMREAD/VMWRITEs of a nested hypervisor's exit handler, >= 0
---@field vmcs_access_cycles? number Cycles of one trapped VMCS access, >= 0
---@field nested_switch_cycles? number Cycles of L0 reflecting one exit to a nested hypervisor, >= 0
---@field backend_exits_per_io? number Exits of the nested hypervisor's device backend per guest I/O exit, >= 0

--- A physical host (layer 0).
---@param t nestsim.host
---@return nestsim.Host
function host(t) end

---@class nestsim.esxi
---@field version? nestsim.EsxiVersion Default "6.7"
---@field quantum? nestsim.Time Scheduling quantum, >= 100us; default 50ms
---@field costop? "none"|"strict"|"relaxed" Co-scheduling of a VM's vCPUs; default "relaxed"
---@field skew? nestsim.Time Relaxed co-scheduling's skew threshold, > 0; default 3ms
---@field own_memory? nestsim.Size Memory the hypervisor keeps for itself; default 1GB

--- ESXi, for a host, or for a VM (which makes it a nested ESXi). Every key is optional.
---@param t nestsim.esxi
---@return nestsim.Hypervisor
function esxi(t) end

---@class nestsim.kvm
---@field version? string Free text, such as "6.2"; default "any"
---@field quantum? nestsim.Time Scheduling quantum, >= 100us; default 6ms (CFS)
---@field costop? "none"|"strict"|"relaxed" Co-scheduling of a VM's vCPUs; default "none"
---@field skew? nestsim.Time Relaxed co-scheduling's skew threshold, > 0; default 3ms
---@field own_memory? nestsim.Size Memory the hypervisor keeps for itself; default 1GB

--- KVM, for a host, or for a VM (which makes it a nested KVM).
---@param t nestsim.kvm
---@return nestsim.Hypervisor
function kvm(t) end

-- ---- VMs and their workloads -----------------------------------------------------------------

---@class nestsim.vm
---@field name string Required. Unique among the VMs of its host or nested hypervisor
---@field on nestsim.Host|nestsim.VM|nestsim.Ref Required. A host, or a VM with a hypervisor (nested)
---@field vcpus? integer 1..1024; default 1
---@field cores_per_socket? integer A divisor of vcpus; default 1
---@field memory nestsim.Size Required. Configured memory
---@field disk? nestsim.Size Size of its one thick disk on the default datastore (or use disks)
---@field guest? nestsim.GuestId Guest OS; default "other64" (a VM with a hypervisor is 64-bit)
---@field cpu_mmu? "automatic"|"software"|"hw-cpu"|"hardware" vSphere's "CPU/MMU Virtualization": BT, VT-x + shadow paging, VT-x + EPT; default "automatic"
---@field expose_hw_virt? boolean "Expose hardware assisted virtualization to the guest OS" (needed by a nested hypervisor's 64-bit guests); default false
---@field shares? number|"low"|"normal"|"high" CPU shares, > 0; levels are 500 / 1000 / 2000 per vCPU; default "normal"
---@field reservation? nestsim.Mhz CPU reservation, >= 0; default 0
---@field limit? nestsim.Mhz|"unlimited" CPU limit, >= the reservation; default "unlimited"
---@field nics? nestsim.Vnic[] Virtual NICs, vnic { } each (unnamed ones are vnic0, vnic1, ...)
---@field hypervisor? nestsim.Hypervisor esxi { } or kvm { }: the VM runs a nested hypervisor
---@field workload? nestsim.Workload|nestsim.MemWorkload|(nestsim.Workload|nestsim.MemWorkload)[] cpu { } or job { }, and/or mem { }
---@field mem_reservation? nestsim.Size Memory reservation, <= memory; default 0
---@field mem_limit? nestsim.Size|"unlimited" Memory limit, >= the reservation; default "unlimited"
---@field mem_shares? number|"low"|"normal"|"high" Memory shares, > 0; levels are 5 / 10 / 20 per MB; default "normal"
---@field balloon? boolean The guest has a balloon driver (VMware Tools); default true, false for esxi* guests (a nested ESXi has none)
---@field disks? nestsim.Disk[] Virtual disks, disk { } each (not with `disk`)

--- A VM, on a host (layer 1) or inside a VM that runs a hypervisor (layer 2, 3, ...).
---@param t nestsim.vm
---@return nestsim.VM
function vm(t) end

---@class nestsim.cpu
---@field util? number Busy fraction of each vCPU, 0..1 (1 = CPU-bound); default 1
---@field period? nestsim.Time One busy + idle cycle, > 0; required when 0 < util < 1
---@field dist? "fixed"|"exp" Burst and gap lengths fixed or exponential; default "fixed"
---@field per? "vcpu"|"vm" Every vCPU runs the workload, or it is split among them; default "vcpu"
---@field profile? nestsim.Profile Virtualization-overhead profile (event rates); default "cpu-only"
---@field syscalls? number Rate override, events per second of bare-metal work, >= 0
---@field page_faults? number Rate override, >= 0
---@field pt_updates? number Rate override (page-table updates), >= 0
---@field ctx_switches? number Rate override, >= 0
---@field tlb_misses? number Rate override, >= 0
---@field io_exits? number Rate override, >= 0
---@field interrupts? number Rate override, >= 0
---@field priv_ops? number Rate override (other privileged operations), >= 0

--- A CPU workload: busy bursts and idle gaps, forever.
---@param t nestsim.cpu
---@return nestsim.Workload
function cpu(t) end

---@class nestsim.job
---@field work nestsim.Time Required. Seconds of one bare-metal L0 core (reports completion_s)
---@field per? "vcpu"|"vm" Every vCPU does the work, or it is split among them; default "vcpu"
---@field profile? nestsim.Profile Virtualization-overhead profile; default "cpu-only"
---@field syscalls? number Rate override, events per second of bare-metal work, >= 0
---@field page_faults? number Rate override, >= 0
---@field pt_updates? number Rate override, >= 0
---@field ctx_switches? number Rate override, >= 0
---@field tlb_misses? number Rate override, >= 0
---@field io_exits? number Rate override, >= 0
---@field interrupts? number Rate override, >= 0
---@field priv_ops? number Rate override, >= 0

--- A job: one burst of work, then idle; its completion time is measured.
---@param t nestsim.job
---@return nestsim.Workload
function job(t) end

---@class nestsim.mem
---@field active? number|nestsim.Size Working set: a share of the VM's memory (0..1) or a size
---@field footprint? number|nestsim.Size Memory the guest touches at all (>= active): a share or a size; default all
---@field touched_rate? nestsim.Size Bytes of its working set touched per second of execution, >= 0, such as "64MB"
---@field share? number Share of its pages page sharing can share, 0..1
---@field compress? number Share of its pages that compress to 2 KB, 0..1
---@field preset? "idle"|"light"|"medium"|"heavy" A memory workload preset (models/mem.c)

--- A memory workload, beside cpu { } or job { }: workload = { cpu { ... }, mem { ... } }.
---@param t nestsim.mem
---@return nestsim.MemWorkload
function mem(t) end

---@class nestsim.disk
---@field size nestsim.Size Required. > 0
---@field datastore? nestsim.Datastore|string A datastore of the VM's host (object or name); default its first
---@field provisioning? "thick"|"thin" Default "thick"
---@field written? number Share of a thin disk written so far, 0..1 (thin only)
---@field iops? number I/Os per second the guest issues, >= 0

--- A virtual disk, for a VM's disks = { ... }.
---@param t nestsim.disk
---@return nestsim.Disk
function disk(t) end

---@class nestsim.datastore
---@field name string Required. Unique on its host
---@field capacity nestsim.Size Required. > 0
---@field type? "hdd"|"ssd" Default "hdd"
---@field latency? nestsim.Time Mean service time of one I/O, > 0; default by type
---@field spindles? integer I/Os served at once, 1..1024

--- A datastore, for a host's datastores = { ... }.
---@param t nestsim.datastore
---@return nestsim.Datastore
function datastore(t) end

-- ---- Network ---------------------------------------------------------------------------------

---@class nestsim.nic
---@field name string Required. Unique on its host, such as "vmnic1"
---@field speed nestsim.BitRate Required. Link speed, > 0

--- A physical NIC, for a host's nics = { ... }.
---@param t nestsim.nic
---@return nestsim.Nic
function nic(t) end

---@class nestsim.vnic
---@field name? string Unique on its VM; default vnic0, vnic1, ... by position
---@field type? "vmxnet3"|"e1000" Paravirtual or emulated; default "vmxnet3"
---@field mac? string Assigned MAC, "00:50:56:01:02:03"; default generated
---@field portgroup? nestsim.Portgroup|nestsim.Dvportgroup The port group it plugs into
---@field promiscuous? boolean The guest puts it in promiscuous mode (a nested hypervisor's uplinks do)
---@field guest_mac? string Effective MAC the guest set ("MAC address changes")

--- A virtual NIC, for a VM's nics = { ... }.
---@param t nestsim.vnic
---@return nestsim.Vnic
function vnic(t) end

---@class nestsim.portgroup
---@field name string Required
---@field vlan? integer 0 untagged, 1..4094 a VLAN, 4095 all VLANs (trunk); default 0
---@field promiscuous? nestsim.Policy Default "reject"
---@field mac_changes? nestsim.Policy Default "accept"
---@field forged_transmits? nestsim.Policy Default "accept"

--- A port group of a standard vSwitch and its security policy.
---@param t nestsim.portgroup
---@return nestsim.Portgroup
function portgroup(t) end

---@class nestsim.dvportgroup
---@field name string Required
---@field vlan? integer 0 untagged, 1..4094 a VLAN, 4095 all VLANs (trunk); default 0
---@field promiscuous? nestsim.Policy Default "reject"
---@field mac_changes? nestsim.Policy Default "accept"
---@field forged_transmits? nestsim.Policy Default "accept"

--- A port group of a distributed switch.
---@param t nestsim.dvportgroup
---@return nestsim.Dvportgroup
function dvportgroup(t) end

---@class nestsim.vswitch
---@field name string Required
---@field on nestsim.Host|nestsim.VM|nestsim.Ref Required. A host, or a VM running a hypervisor
---@field uplinks? string[] Names of its uplinks: the host's nics, or the nested hypervisor's vnics
---@field portgroups? nestsim.Portgroup[] portgroup { } each

--- A standard vSwitch (it does not learn MACs).
---@param t nestsim.vswitch
---@return nestsim.Vswitch
function vswitch(t) end

---@class nestsim.dvswitch
---@field name string Required. Unique among dvswitches
---@field members (nestsim.Host|nestsim.VM|nestsim.Ref)[] Required. Hosts and VMs running a hypervisor
---@field uplinks? string[] Names of each member's uplink NICs or vNICs
---@field portgroups? nestsim.Dvportgroup[] dvportgroup { } each
---@field mac_learning? boolean Learn MACs per port (vSphere 6.7+); default false

--- A distributed switch across hypervisors.
---@param t nestsim.dvswitch
---@return nestsim.Dvswitch
function dvswitch(t) end

---@class nestsim.external
---@field name string Required. Unique among externals
---@field speed nestsim.BitRate Required. Its link to the physical switch
---@field mac? string Its MAC; default generated
---@field vlan? integer Access VLAN of its port, 0..4094; default 0

--- A machine outside, on the physical switch.
---@param t nestsim.external
---@return nestsim.External
function external(t) end

---@class nestsim.traffic
---@field name? string Unique among flows; default traffic1, traffic2, ...
---@field from nestsim.VM|nestsim.Vnic|nestsim.External|nestsim.Ref Required. Sender (a VM: its first vNIC)
---@field to nestsim.VM|nestsim.Vnic|nestsim.External|nestsim.Ref Required. Receiver
---@field rate nestsim.BitRate Required. > 0
---@field frame? nestsim.Size Frame size, <= 65535 bytes; default 1500
---@field pattern? "constant"|"poisson"|"onoff" Default "constant"
---@field on? nestsim.Time Mean on period (pattern = "onoff")
---@field off? nestsim.Time Mean off period (pattern = "onoff")
---@field start? nestsim.Time When it starts; default 0
---@field count? integer Frames to send, >= 0; default unlimited
---@field size? "fixed"|"exp" Frame sizes fixed or exponential around `frame`; default "fixed"

--- A stream of frames.
---@param t nestsim.traffic
---@return nestsim.Flow
function traffic(t) end

---@class nestsim.rr
---@field name? string Unique among flows; default rr1, rr2, ...
---@field from nestsim.VM|nestsim.Vnic|nestsim.External|nestsim.Ref Required. Client
---@field to nestsim.VM|nestsim.Vnic|nestsim.External|nestsim.Ref Required. Server
---@field rate number Required. Transactions per second, > 0
---@field size nestsim.Size Required. Request and response size, <= 65535 bytes
---@field pattern? "constant"|"poisson" Default "constant"
---@field start? nestsim.Time When it starts; default 0
---@field count? integer Transactions, >= 0; default unlimited

--- Request/response pairs (latency: mean, p50, p99).
---@param t nestsim.rr
---@return nestsim.Flow
function rr(t) end

---@class nestsim.noise
---@field name? string Unique among flows; default noise1, noise2, ...
---@field from nestsim.VM|nestsim.Vnic|nestsim.External|nestsim.Ref Required. Sender
---@field rate number Required. Frames per second, > 0
---@field frame? nestsim.Size Frame size, <= 65535 bytes; default 60
---@field pattern? "constant"|"poisson" Default "constant"
---@field start? nestsim.Time When it starts; default 0
---@field count? integer Frames, >= 0; default unlimited

--- Broadcast frames (ARP-like).
---@param t nestsim.noise
---@return nestsim.Flow
function noise(t) end
