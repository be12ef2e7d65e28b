#!/usr/bin/env bash
# fuzz.sh [SECONDS] — fuzzes the scenario loader (tests/fuzz-scn.c) with libFuzzer, under
# AddressSanitizer and UndefinedBehaviorSanitizer, for SECONDS (default 60). Builds with clang
# directly into build-fuzz/ (no meson needed), seeds the corpus from scenarios/*.lua and
# tests/scenarios/**/*.lua, and keeps what it learns in build-fuzz/corpus/ (git-ignored) so
# that the next run starts from there. A long run: scripts/fuzz.sh 3600.
# On a crash it exits non-zero and names the input in build-fuzz/artifacts/; replay it with
# build-fuzz/fuzz-scn FILE, then add it to /scn/fuzz/regressions-give-a-message in
# tests/test-scn.c.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
out=build-fuzz
mkdir -p "$out/corpus" "$out/artifacts"

cc=${CLANG:-clang}
sources=(tests/fuzz-scn.c src/scn.c src/topo.c src/units.c)
bin="$out/fuzz-scn"
rebuild=0
[ -x "$bin" ] || rebuild=1
for f in "${sources[@]}" src/scn.h src/topo.h src/units.h; do
  [ "$f" -nt "$bin" ] && rebuild=1
done
if [ $rebuild = 1 ]; then
  echo "fuzz: building $bin"
  # shellcheck disable=SC2046
  "$cc" -std=c17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -I. $(pkg-config --cflags glib-2.0 lua5.4 gsl) "${sources[@]}" \
    $(pkg-config --libs glib-2.0 lua5.4 gsl) -lm -o "$bin"
fi

# The seed corpus, fresh each run: the shipped scenarios and the test scenarios, good and bad.
rm -rf "$out/seed"
mkdir -p "$out/seed"
shopt -s globstar nullglob
n=0
for f in scenarios/**/*.lua tests/scenarios/**/*.lua; do
  cp "$f" "$out/seed/$(echo "$f" | tr '/' '_')"
  n=$((n + 1))
done
echo "fuzz: $n seed scenarios, $seconds s"

# Words of the scenario language, so that mutations speak it.
dict="$out/scn.dict"
{
  for w in scenario host esxi kvm vm vswitch portgroup dvswitch dvportgroup nic vnic datastore \
           cpu job param name duration warmup seed interval overheads sockets cores threads ghz \
           model vt ept vmcs_shadowing memory hypervisor nics datastores version quantum costop \
           skew on vcpus cores_per_socket disk guest cpu_mmu expose_hw_virt shares reservation \
           limit workload uplinks portgroups members mac_learning vlan promiscuous mac_changes \
           forged_transmits speed type mac capacity util period dist per profile work \
           accept reject relaxed strict none hardware software hardware_cpu automatic exp fixed \
           vcpu esxi5 linux64 vmxnet3 e1000 ssd hdd low normal high unlimited \
           GB TB MB GHz MHz ms min s Gbps pairs ipairs pcall error string table math \
           local function end for do while repeat until if then else return nil true false; do
    printf '"%s"\n' "$w"
  done
  printf '"%s"\n' " = " "{ " " }" ", " "\\\"" ".." "[1]" "'esx01/vESX1'" "\"32GB\"" "1e9"
} > "$dict"

status=0
"$bin" -max_total_time="$seconds" -max_len=8192 -timeout=20 -rss_limit_mb=2048 \
  -close_fd_mask=3 -dict="$dict" -artifact_prefix="$out/artifacts/" -print_final_stats=1 \
  "$out/corpus" "$out/seed" || status=$?
if [ $status != 0 ]; then
  echo "fuzz: FAILED (status $status); inputs that crashed: $(ls "$out/artifacts")" >&2
fi
exit $status
