#!/usr/bin/env bash
# API-call benchmark (not a test): seeds about N resources of every service the emulator
# supports (bench/seed_all.py) into a private emulator on a free loopback port, runs an
# account-wide `tapaudit scan` (release build of this tree) and prints per service: resources,
# calls made (the JSON report's stats.api_calls), the minimum for this account
# (bench/minimum.py, explained in bench/minimum-calls.md) and the ratio; plus totals.
#   bench/calls.sh [N]            (default 1000)
#   BEFORE_BIN=/path/to/tapaudit bench/calls.sh N   also scans the same account with another
#                                 binary (e.g. main's) and prints its calls side by side.
#   BENCH_PORT=P                  the emulator's loopback port (default: a free one).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tapaudit/target}"
n="${1:-1000}"
[ -n "${AFTER_BIN:-}" ] || { cargo build --locked --release --bin tapaudit >&2; AFTER_BIN="$CARGO_TARGET_DIR/release/tapaudit"; }
python="$(scripts/emulator.sh venv)"
port="${BENCH_PORT:-$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}"
scripts/emulator.sh start "$port" >/dev/null 2>&1
work=$(mktemp -d)
trap 'scripts/emulator.sh stop "$port" >/dev/null 2>&1; rm -rf "$work"' EXIT
"$python" bench/seed_all.py "http://127.0.0.1:$port" "$n" > "$work/seeded.json"
scan() { # scan BIN DIR
  mkdir -p "$2"
  AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 NO_COLOR=1 \
    "$1" scan --format json --output-dir "$2" --fail-on critical >/dev/null 2>"$2/stderr" || true
  [ -s "$2/tapaudit.json" ] || { echo "scan with $1 wrote no report:" >&2; tail -5 "$2/stderr" >&2; exit 1; }
}
before=""
if [ -n "${BEFORE_BIN:-}" ]; then scan "$BEFORE_BIN" "$work/before"; before="$work/before/tapaudit.json"; fi
scan "$AFTER_BIN" "$work/after"
PYTHONPATH=bench "$python" - "$work/seeded.json" "$work/after/tapaudit.json" "$before" <<'PY'
import json, sys
from minimum import minimum
seeded = json.load(open(sys.argv[1]))
after = json.load(open(sys.argv[2]))["stats"]
before = json.load(open(sys.argv[3]))["stats"] if sys.argv[3] else None
res = dict(after["resources"])
for k, v in seeded.items():  # counts the report does not carry (access keys, ...)
    res.setdefault(k, v)
mins = minimum(res)
svc_of = lambda t: t.split(":")[0]
per_svc = {}
for t, c in after["resources"].items():
    per_svc[svc_of(t)] = per_svc.get(svc_of(t), 0) + c
calls = lambda st, s: sum(st["api_calls"].get(s, {}).values())
services = sorted(set(after["api_calls"]) | set(mins))
hdr = f"{'service':<15} {'resources':>9} " + (f"{'before':>7} " if before else "") + f"{'calls':>7} {'minimum':>7} {'ratio':>6}"
print(f"seeded {sum(seeded.values())} resources (N={sys.argv[1] and sum(seeded.values())})")
print(hdr)
tb = ta = tm = 0
for s in services:
    a, m = calls(after, s), mins.get(s, 0)
    b = calls(before, s) if before else 0
    tb, ta, tm = tb + b, ta + a, tm + m
    ratio = f"{a / m:.2f}" if m else "-"
    print(f"{s:<15} {per_svc.get(s, 0):>9} " + (f"{b:>7} " if before else "") + f"{a:>7} {m:>7} {ratio:>6}")
print(f"{'total':<15} {sum(per_svc.values()):>9} " + (f"{tb:>7} " if before else "") + f"{ta:>7} {tm:>7} {ta / tm:>6.2f}")
PY
