#!/bin/sh
# bench-cpu.sh — the CPU model's benchmark (issue 3): how simulation cost grows from the seed's
# lab to a 1,000-host datacenter. Prints a Markdown table for the README.
#
#   scripts/bench-cpu.sh [BUILD_DIR]      (default: build; needs BUILD_DIR/nestsim)
#
# Rows: the seed lab (scenarios/nested-lab.lua) for one simulated hour, and
# scenarios/bench/datacenter.lua for one simulated minute with 10, 100 and 1,000 hosts. Wall
# time and events come from `nestsim run --stats` (scenario loading plus simulation; writing
# the results is not timed); max RSS is the process's peak, writers included. A benchmark,
# not a test: the targets (issue 3) are under 1 s for the lab's hour, and under 60 s and 2 GiB
# for 1,000 hosts.
set -eu

build=${1:-build}
bin="$build/nestsim"
if [ ! -x "$bin" ]; then
  echo "bench-cpu.sh: $bin not found; build first: meson setup $build && ninja -C $build" >&2
  exit 2
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# run LABEL VCPUS ARGS... — one table row. VCPUS is the scenario's vCPU count at all layers.
run() {
  label=$1
  vcpus=$2
  shift 2
  stats=$("$bin" run "$@" --quiet --stats --out "$out/run" 2>&1 >/dev/null | grep '^stats:') || {
    echo "bench-cpu.sh: nestsim run $* failed" >&2
    exit 1
  }
  rm -rf "$out/run"
  echo "$stats" | awk -v label="$label" -v vcpus="$vcpus" '{
    for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "| %s | %d | %d | %.2f | %.0f | %.0f MiB | %.0f |\n", label, vcpus, v["events"],
           v["wall_s"], v["events_per_s"], v["max_rss_kb"] / 1024, v["max_rss_kb"] * 1024 / vcpus
  }'
}

echo "| scenario | vCPUs | events | wall s | events/s | max RSS | bytes per vCPU |"
echo "|---|---:|---:|---:|---:|---:|---:|"
# The lab: vcenter 2 + ad 1 + 4 nested hosts x 4 + their 4 x 4 one-vCPU VMs = 35 vCPUs.
# The CPU model alone (the lab's frames, 50M events an hour, are the network model's cost).
run "seed lab, 1 h" 35 scenarios/nested-lab.lua --duration 1h --set traffic=false
# A datacenter host: 16 VMs x 4 vCPUs + 4 nested hosts x 8 one-vCPU VMs = 96 vCPUs.
for n in 10 100 1000; do
  run "datacenter, $n hosts, 1 min" $((n * 96)) scenarios/bench/datacenter.lua --set hosts=$n
done
