#!/usr/bin/env bash
# Evaluation benchmark (not a test): generates synthetic snapshots of N resources
# (bench/gen_snapshot.py), evaluates each with `scan --from-snapshot --format table,json,sarif`
# (release build, TAPAUDIT_TIMINGS=1) and prints, per size: resources, findings, seconds per
# phase (load, evaluate, report, each renderer with its file, all reports (they render at the
# same time), the printed table), the slowest controls, wall time,
# peak RSS and microseconds per resource.   bench/eval.sh [N ...]   (default: 1000 10000 100000)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tapaudit/target}"
profile="${BENCH_PROFILE:-release}"
# TAPAUDIT_BIN names a binary already built (nothing is built then)
if [ -z "${TAPAUDIT_BIN:-}" ]; then
  if [ "$profile" = release ]; then cargo build --locked --release --bin tapaudit >&2; else cargo build --locked --all-targets >&2; fi
fi
bin="${TAPAUDIT_BIN:-$CARGO_TARGET_DIR/$profile/tapaudit}"
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(1000 10000 100000)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
for n in "${sizes[@]}"; do
  python3 bench/gen_snapshot.py "$n" "$work/snap-$n.json" >/dev/null
  NO_COLOR=1 TAPAUDIT_TIMINGS=1 /usr/bin/time -f 'wall %e rss %M' -o "$work/time-$n" \
    "$bin" scan --from-snapshot "$work/snap-$n.json" --format table,json,sarif --output-dir "$work/out-$n" \
    >/dev/null 2>"$work/err-$n" || true
  python3 - "$n" "$work" <<'PY'
import json, re, sys
n, work = sys.argv[1], sys.argv[2]
phases, slowest = {}, []
for line in open(f"{work}/err-{n}"):
    m = re.match(r"timing: (.+) ([0-9.]+) s, peak rss (\d+) KiB", line)
    if m:
        phases[m.group(1)] = (float(m.group(2)), int(m.group(3)))
    m = re.match(r"timing:   control (\S+) ([0-9.]+) s", line)
    if m:
        slowest.append((m.group(1), float(m.group(2))))
wall, rss = re.search(r"wall ([0-9.]+) rss (\d+)", open(f"{work}/time-{n}").read()).groups()
r = json.load(open(f"{work}/out-{n}/tapaudit.json"))
res = sum(r["stats"]["resources"].values())
s = r["summary"]["findings"]
print(f"== {res} resources, {s['total']} findings ({s['fail']} fail, {s['error']} error, {s['pass']} pass)")
for name, (secs, peak) in phases.items():
    print(f"   {name:<22} {secs:8.3f} s   peak rss {peak / 1024:8.1f} MiB")
if slowest:
    print("   slowest controls: " + ", ".join(f"{c} {t:.3f} s" for c, t in slowest[:5]))
print(f"   {'total (wall)':<22} {float(wall):8.3f} s   peak rss {int(rss) / 1024:8.1f} MiB   {float(wall) / res * 1e6:.1f} µs/resource")
PY
done
