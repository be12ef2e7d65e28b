#!/usr/bin/env bash
# test.sh — the second Quick start command: builds nestsim twice (plain, and under
# AddressSanitizer + UndefinedBehaviorSanitizer) and runs every test suite (unit, scenario,
# slow) in both, then prints one closing line "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
status=0
for b in build build-asan; do
  if [ ! -d "$b" ]; then
    if [ "$b" = build-asan ]; then
      meson setup "$b" -Db_sanitize=address,undefined -Db_lundef=false --buildtype=debug
    else
      meson setup "$b"
    fi
  fi
  meson compile -C "$b"
  meson test -C "$b" --print-errorlogs --num-processes 2 || status=1
done
python3 - <<'PY'
import json
passed = failed = 0
for b in ("build", "build-asan"):
    try:
        with open(f"{b}/meson-logs/testlog.json") as f:
            for line in f:
                r = json.loads(line)
                if r.get("result") in ("OK", "EXPECTEDFAIL", "SKIP"):
                    passed += 1
                else:
                    failed += 1
    except FileNotFoundError:
        failed += 1
print(f"{passed} passed, {failed} failed")
PY
exit $status
