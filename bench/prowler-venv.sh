#!/usr/bin/env bash
# Prowler (PyPI) in its own venv under .tools/prowler-venv, for bench/throttle.sh. Idempotent:
# prints the venv's prowler executable.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.tools/prowler-venv"
if [ ! -x "$venv/bin/prowler" ]; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --upgrade pip >&2
  "$venv/bin/pip" install --quiet prowler >&2
fi
echo "$venv/bin/prowler"
