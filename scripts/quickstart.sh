#!/usr/bin/env bash
# quickstart.sh — the first Quick start command: installs what is missing, builds nestsim and
# runs the default scenario (the seed's nested lab).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
[ -d build ] || meson setup build
meson compile -C build
build/nestsim run scenarios/nested-lab.lua "$@"
