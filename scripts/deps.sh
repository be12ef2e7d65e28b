#!/usr/bin/env bash
# deps.sh — installs the Debian 12 packages nestsim needs to build, test and plot, when any is
# missing. Uses sudo when not root. Extra package names given as arguments are installed too.
set -euo pipefail
pkgs=(build-essential meson ninja-build pkg-config libglib2.0-dev libgsl-dev liblua5.4-dev
      gnuplot-nox clang libclang-rt-dev "$@")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "deps: installing ${missing[*]}"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
