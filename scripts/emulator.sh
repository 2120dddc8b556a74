#!/usr/bin/env bash
# Local AWS endpoint for development, tests, demos and benchmarks: moto server on loopback.
#   scripts/emulator.sh start [PORT]   create the venv if needed, start moto_server, wait until it answers
#   scripts/emulator.sh stop  [PORT]   stop the server started by this script (by its recorded pid)
#   scripts/emulator.sh status [PORT]  exit 0 when it answers
#   scripts/emulator.sh reset [PORT]   clear all emulator state
#   scripts/emulator.sh venv           only create/upgrade the venv; prints the python path
# PORT defaults to $TAPAUDIT_EMULATOR_PORT or 5000. Starting twice is harmless.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MOTO_VERSION="5.2.5"
venv="${TAPAUDIT_VENV:-$root/.tools/venv}"
state_dir="$root/.tools/run"
cmd="${1:-start}"
port="${2:-${TAPAUDIT_EMULATOR_PORT:-5000}}"
pidfile="$state_dir/moto-$port.pid"
logfile="$state_dir/moto-$port.log"
url="http://127.0.0.1:$port"

ensure_venv() {
  if [ ! -x "$venv/bin/moto_server" ] || ! "$venv/bin/python" -c "import moto,sys; sys.exit(0 if moto.__version__=='$MOTO_VERSION' else 1)" 2>/dev/null; then
    echo "emulator: installing moto[server]==$MOTO_VERSION into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" >&2
  fi
}

answers() {
  "$venv/bin/python" - "$url" <<'PY' 2>/dev/null
import sys, urllib.request
try:
    urllib.request.urlopen(sys.argv[1] + "/moto-api/data.json", timeout=1).read(1)
except Exception:
    sys.exit(1)
PY
}

running_pid() {
  [ -f "$pidfile" ] || return 1
  local pid; pid="$(cat "$pidfile")"
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

case "$cmd" in
  venv)
    ensure_venv; echo "$venv/bin/python" ;;
  start)
    ensure_venv
    mkdir -p "$state_dir"
    if running_pid >/dev/null && answers; then
      echo "emulator: already running at $url (pid $(cat "$pidfile"))" >&2; exit 0
    fi
    if answers; then
      echo "emulator: port $port already answers but was not started by this script; use another port" >&2; exit 1
    fi
    MOTO_IAM_LOAD_MANAGED_POLICIES=true MOTO_EC2_LOAD_DEFAULT_AMIS=false MOTO_ACM_VALIDATION_WAIT=0 \
      nohup "$venv/bin/python" "$root/scripts/emulator/server.py" -H 127.0.0.1 -p "$port" >"$logfile" 2>&1 &
    echo $! >"$pidfile"
    for _ in $(seq 1 150); do
      if answers; then echo "emulator: running at $url (pid $(cat "$pidfile"))" >&2; exit 0; fi
      kill -0 "$(cat "$pidfile")" 2>/dev/null || break
      sleep 0.2
    done
    echo "emulator: moto_server did not answer on $url; see $logfile" >&2; exit 1 ;;
  stop)
    if pid="$(running_pid)"; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      echo "emulator: stopped pid $pid" >&2
    else
      echo "emulator: not running on port $port" >&2
    fi
    rm -f "$pidfile" ;;
  status)
    answers && echo "emulator: running at $url" ;;
  reset)
    "$venv/bin/python" -c "import urllib.request,sys; urllib.request.urlopen(urllib.request.Request(sys.argv[1]+'/moto-api/reset', method='POST'), timeout=10)" "$url" ;;
  *)
    echo "usage: $0 start|stop|status|reset|venv [PORT]" >&2; exit 2 ;;
esac
