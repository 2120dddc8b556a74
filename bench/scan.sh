#!/usr/bin/env bash
# Scan benchmark (not a test): seeds N resources into a private emulator on a free loopback
# port, runs an account-wide `tapaudit scan` (release build), and prints resources, API calls,
# wall time and peak RSS.   bench/scan.sh [N ...]   (default: 100 500)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tapaudit/target}"
profile="${BENCH_PROFILE:-release}"
if [ "$profile" = release ]; then cargo build --locked --release --bin tapaudit >&2; else cargo build --locked --bin tapaudit >&2; fi
bin="$CARGO_TARGET_DIR/$profile/tapaudit"
python="$(scripts/emulator.sh venv)"
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(100 500)
printf '%-8s %-10s %-10s %-10s %-10s %-12s\n' seeded resources api_calls wall_s scan_s peak_rss_mb
for n in "${sizes[@]}"; do
  port=$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  scripts/emulator.sh start "$port" >/dev/null 2>&1
  trap 'scripts/emulator.sh stop "$port" >/dev/null 2>&1' EXIT
  seeded=$("$python" bench/seed.py "http://127.0.0.1:$port" "$n")
  out=$(mktemp -d)
  AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 \
    /usr/bin/time -f '%e %M' -o "$out/time" "$bin" scan --format json --output-dir "$out" --fail-on critical >/dev/null 2>"$out/stderr" || true
  read -r wall rss_kb < "$out/time"
  "$python" - "$out/tapaudit.json" "$seeded" "$wall" "$rss_kb" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
s = r["stats"]
print(f"{sys.argv[2]:<8} {sum(s['resources'].values()):<10} {s['total_api_calls']:<10} {float(sys.argv[3]):<10.2f} {s['wall_seconds']:<10.2f} {int(sys.argv[4])/1024:<12.1f}")
PY
  scripts/emulator.sh stop "$port" >/dev/null 2>&1; trap - EXIT
  rm -rf "$out"
done
