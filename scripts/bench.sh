#!/usr/bin/env bash
# bench.sh — builds nestsim with optimisations (build-release, meson's release buildtype:
# -O3) and runs `nestsim bench`, the hold-model benchmark of the event queue.
# Arguments go to `nestsim bench` (e.g. --sizes 1000,100000 --holds 2000000). It takes about
# 20 s on a 2-core machine; run it on an idle machine, since other load shows in the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d build-release ]; then
  meson setup build-release --buildtype=release
fi
ninja -C build-release nestsim
exec build-release/nestsim bench "$@"
