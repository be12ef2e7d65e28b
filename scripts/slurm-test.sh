#!/bin/bash
# slurm-test.sh — runs a sweep's Slurm path for real on a one-node Slurm started here: munged,
# slurmctld and slurmd (Debian 12: apt-get install slurm-wlm munge) on localhost, with their
# configuration, key, state and logs in a scratch folder; `nestsim sweep --emit slurm`, sbatch,
# wait for the array, `nestsim sweep --collect`, and compare sweep.csv with a local sweep of the
# same file. Prints the per-point overhead of the Slurm path. The daemons are stopped by the
# PIDs they wrote, whatever happens.
#
# Usage: scripts/slurm-test.sh [NESTSIM_BIN]   (default build/nestsim)
# Exit: 0 passed, 1 failed, 77 skipped (Slurm or munge not installed; the test suite's
# /sweep/emit/... runs the same array script task by task without Slurm).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(readlink -f "${1:-$root/build/nestsim}")
sweep_file=$root/scenarios/sweeps/flooding-vs-nested-hosts.lua

for prog in munged slurmctld slurmd sbatch squeue; do
  if ! command -v "$prog" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$prog" ]; then
    echo "SKIP: $prog is not installed (apt-get install slurm-wlm munge); the Slurm path was not run"
    exit 77
  fi
done
[ -x "$bin" ] || { echo "slurm-test: no nestsim at $bin (give its path)"; exit 1; }
PATH=$PATH:/usr/sbin

work=$(mktemp -d /tmp/nestsim-slurm-XXXXXX)
chmod 700 "$work"
pids=()
cleanup() {
  # Stop what we started, by the PIDs the daemons wrote (never by name).
  for f in "$work/slurmd.pid" "$work/slurmctld.pid" "$work/munged.pid"; do
    [ -s "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
  done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 1
  rm -rf "$work"
}
trap cleanup EXIT

# munge: a key of our own and a socket in the scratch folder.
mkdir -p "$work/munge" "$work/state" "$work/spool"
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/munge/munge.key"
munged --force --socket="$work/munge/socket" --key-file="$work/munge/munge.key" \
  --pid-file="$work/munged.pid" --log-file="$work/munge/log" --seed-file="$work/munge/seed"

host=$(hostname -s)
cpus=$(nproc)
user=$(id -un)
cat >"$work/slurm.conf" <<EOF
ClusterName=nestsim-test
SlurmctldHost=$host
SlurmUser=$user
SlurmdUser=root
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
AuthInfo=socket=$work/munge/socket
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
ReturnToService=2
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$work/slurm.conf
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 1 30); do
  sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)' && break
  sleep 1
done
sinfo -h -o %T | grep -qE '^(idle|mixed|allocated)' || { echo "slurm-test: the node did not come up"; cat "$work/slurmctld.log" "$work/slurmd.log"; exit 1; }

# The reference: the same sweep run locally on one worker.
t0=$(date +%s.%N)
"$bin" sweep "$sweep_file" -j 1 --out "$work/local" 2>/dev/null
t1=$(date +%s.%N)

"$bin" sweep "$sweep_file" --emit slurm --per-task 5 --out "$work/slurm" >/dev/null
t2=$(date +%s.%N)
job=$(sbatch --parsable "$work/slurm/slurm.sh")
job=${job%%;*}
for _ in $(seq 1 600); do
  [ -z "$(squeue -h -j "$job" 2>/dev/null)" ] && break
  sleep 0.2
done
"$bin" sweep --collect "$work/slurm"
t3=$(date +%s.%N)

if cmp -s "$work/local/sweep.csv" "$work/slurm/sweep.csv"; then
  n=$(($(wc -l <"$work/slurm/points.csv") - 1))
  awk -v l="$(echo "$t1 - $t0" | bc)" -v s="$(echo "$t3 - $t2" | bc)" -v n="$n" -v c="$cpus" \
    'BEGIN { printf "PASS: %d points: local -j 1 %.2f s, Slurm (%d CPUs) %.2f s, overhead %.1f ms a point (Slurm wall x CPUs - local) / points\n", n, l, c, s, 1000 * (s * c - l) / n }'
else
  echo "FAIL: sweep.csv from Slurm differs from the local one"
  diff "$work/local/sweep.csv" "$work/slurm/sweep.csv" | head -20
  exit 1
fi
