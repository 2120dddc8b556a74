#!/usr/bin/env bash
# Throttling benchmark (not a test): seeds N resources (default 1000) into a private emulator,
# puts bench/proxy.py in front of it (per-call latency, per-operation token bucket that answers
# with each protocol's throttling error), and scans account-wide through the proxy with the
# release binary, twice: `fixed` (TAPAUDIT_LIMITER=fixed: the behaviour before the AIMD windows,
# the --concurrency semaphore alone) and `aimd` (the default). Then Prowler (bench/prowler-venv.sh)
# through the same proxy, limited to the same services, unless PROWLER=0.
# Prints wall time, the proxy's calls and throttles, the scan's retries and collection errors.
#   bench/throttle.sh [N]   env: PORT (emulator, default 46300; proxy PORT+1), LATENCY_MS (40),
#   RATE (20 calls/s per operation), CONCURRENCY (8), PROWLER (1)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
n="${1:-1000}"
port="${PORT:-46300}"
pport=$((port + 1))
latency="${LATENCY_MS:-40}"
rate="${RATE:-20}"
conc="${CONCURRENCY:-8}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tapaudit/target}"
[ -n "${BIN:-}" ] || cargo build --locked --release --bin tapaudit >&2
bin="${BIN:-$CARGO_TARGET_DIR/release/tapaudit}"
python="$(scripts/emulator.sh venv)"
scripts/emulator.sh start "$port" >/dev/null 2>&1
proxy_pid=
cleanup() { [ -z "$proxy_pid" ] || kill "$proxy_pid" 2>/dev/null || true; scripts/emulator.sh stop "$port" >/dev/null 2>&1 || true; }
trap cleanup EXIT
seeded=$("$python" bench/seed.py "http://127.0.0.1:$port" "$n")
python3 bench/proxy.py --port "$pport" --upstream "$port" --latency-ms "$latency" --rate "$rate" >/dev/null &
proxy_pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$pport/__stats" >/dev/null && break; sleep 0.1; done
echo "seeded $seeded resources; proxy: ${latency} ms per call, ${rate} calls/s per operation; --concurrency $conc"
printf '%-10s %-8s %-8s %-10s %-8s %-8s %-8s\n' run wall_s calls throttles retries errors exit
stats() { curl -sf "http://127.0.0.1:$pport/__stats"; }
for mode in fixed aimd; do
  curl -sf -X POST "http://127.0.0.1:$pport/__reset" >/dev/null
  out=$(mktemp -d)
  start=$(date +%s.%N)
  code=0
  TAPAUDIT_LIMITER="$mode" AWS_ENDPOINT_URL="http://127.0.0.1:$pport" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
    AWS_REGION=us-east-1 NO_COLOR=1 "$bin" --concurrency "$conc" scan --format json --output-dir "$out" --fail-on critical \
    >/dev/null 2>"$out/stderr" || code=$?
  end=$(date +%s.%N)
  stats > "$out/proxy.json"
  "$python" - "$mode" "$start" "$end" "$out/proxy.json" "$out/tapaudit.json" "$code" <<'PY'
import json, sys
mode, start, end, proxy, report, code = sys.argv[1:]
p = json.load(open(proxy))
try:
    r = json.load(open(report))
    retries = sum(r["stats"].get("retries", {}).values()) if "retries" in r["stats"] else "n/a"
    errors = len(r["errors"])
except FileNotFoundError:
    retries, errors = "n/a", "no report"
print(f"{mode:<10} {float(end)-float(start):<8.1f} {p['calls']:<8} {p['throttles']:<10} {retries!s:<8} {errors!s:<8} {code:<8}")
PY
  rm -rf "$out"
done
if [ "${PROWLER:-1}" != 0 ]; then
  prowler="$(bench/prowler-venv.sh)"
  curl -sf -X POST "http://127.0.0.1:$pport/__reset" >/dev/null
  out=$(mktemp -d)
  start=$(date +%s.%N)
  code=0
  AWS_ENDPOINT_URL="http://127.0.0.1:$pport" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 \
    AWS_DEFAULT_REGION=us-east-1 timeout "${PROWLER_TIMEOUT:-1200}" "$prowler" aws --region us-east-1 \
    --service kms cloudwatch secretsmanager kinesis iam ec2 vpc --output-directory "$out" --no-banner \
    >"$out/prowler.log" 2>&1 || code=$?
  end=$(date +%s.%N)
  stats > "$out/proxy.json"
  "$python" - "$start" "$end" "$out/proxy.json" "$code" <<'PY'
import json, sys
start, end, proxy, code = sys.argv[1:]
p = json.load(open(proxy))
print(f"{'prowler':<10} {float(end)-float(start):<8.1f} {p['calls']:<8} {p['throttles']:<10} {'n/a':<8} {'n/a':<8} {code:<8}")
PY
  echo "prowler log tail:"; tail -5 "$out/prowler.log" | cut -c1-300
  rm -rf "$out"
fi
