#!/usr/bin/env bash
# teaching.sh — runs the teaching series (scenarios/teaching/, see its README.md) in one
# command: every lesson, with its figures, into results/teaching/<name>/, then prints where
# each lesson's figure is. Lessons that tell their story by contrast (05, 06, 07) run twice.
#
# Usage: scripts/teaching.sh [BUILD_DIR [OUT_DIR]]
#   BUILD_DIR: the folder holding nestsim (default: build); OUT_DIR: where the lessons' folders
#   go (default: results/teaching).
# Without gnuplot the runs still succeed (their data files are written); the script then says
# how to get the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
out=${2:-results/teaching}
nestsim=$build/nestsim
if [ ! -x "$nestsim" ]; then
  echo "teaching.sh: no $nestsim; build first (meson setup $build && ninja -C $build nestsim)" >&2
  exit 2
fi
have_gnuplot=yes
command -v gnuplot > /dev/null || have_gnuplot=no

stories=()
# run NAME SCENARIO FIGURE STORY [nestsim run options...]: runs one lesson into $out/NAME.
run() {
  local name=$1 file=scenarios/teaching/$2 figure=$3 story=$4
  shift 4
  local log
  # nestsim says on stderr when gnuplot is missing; the summary at the end says it once.
  if ! log=$("$nestsim" run "$file" --quiet --plot --out "$out/$name" "$@" 2>&1); then
    printf '%s\n' "$log" >&2
    echo "teaching.sh: $file failed" >&2
    exit 1
  fi
  stories+=("$(printf '%-34s %s\n%-34s   %s' "$name" "$story" "" "$out/$name/plots/$figure")")
}

run 01-one-vm 01-one-vm.lua cpu.png \
  "one VM alone: %USED = its demand, %RDY = 0"
run 02-contention 02-contention.lua timeline.png \
  "4 VMs on 2 cores: 50% used, 50% ready each (also cpu.png)" --trace esx01/
run 03-coscheduling 03-coscheduling.lua cpu.png \
  "strict co-scheduling: the smp VM's %CSTP panel" --trace esx01/smp/
run 03-coscheduling-relaxed 03-coscheduling.lua cpu.png \
  "relaxed co-scheduling: far less %CSTP" --set costop=relaxed
run 04-one-nested-layer 04-one-nested-layer.lua attribution.png \
  "the L2 VM's time: guest, L0 exits, L1 exits, page walks"
run 05-modes 05-modes.lua attribution.png \
  "BT, VT-x + shadow paging, EPT side by side at L1"
run 05-modes-layer2 05-modes.lua attribution.png \
  "the same at L2: exits multiplied, BT now ahead" --set layer=2
run 06-network-pitfalls 06-network-pitfalls.lua network.png \
  "all policies reject: drops named forged, unknown_dst, mac_change"
run 06-network-pitfalls-accept 06-network-pitfalls.lua network.png \
  "all accept: delivered; flooded copies dropped inside the nested hosts" \
  --set promiscuous=accept --set mac_changes=accept --set forged_transmits=accept
run 07-memory-overcommit 07-memory-overcommit.lua memory.png \
  "4 x 4 GB on 16 GB with balloon drivers: ballooning, no swap"
run 07-memory-overcommit-no-balloon 07-memory-overcommit.lua memory.png \
  "the same without balloon drivers: swapping and stalls" --set balloon=false
run 08-seed-lab 08-seed-lab.lua attribution.png \
  "the seed's lab: where the L2 VMs' time goes (also cpu.png)"

echo "The teaching series (scenarios/teaching/README.md says what to look at):"
echo
for s in "${stories[@]}"; do printf '%s\n' "$s"; done
echo
if [ $have_gnuplot = no ]; then
  echo "gnuplot is not installed, so no figures were drawn (each folder's plots/ holds the data)."
  echo "Get them: apt-get install gnuplot-nox, then run scripts/teaching.sh again"
  echo "(or $nestsim plot $out/<name> for one lesson)."
fi
