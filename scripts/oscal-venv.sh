#!/usr/bin/env bash
# The Python venv that validates OSCAL documents: compliance-trestle (IBM's OSCAL
# implementation, pydantic models generated from NIST's OSCAL schemas), pinned.
#   scripts/oscal-venv.sh    create or upgrade the venv if needed; prints its python path
# Kept apart from the moto venv (scripts/emulator.sh): their pins conflict. Idempotent and a
# fast no-op once installed; one installer at a time (parallel test binaries call it).
# Validate a document:  "$(scripts/oscal-venv.sh)" -c 'import pathlib, sys
# from trestle.oscal.assessment_results import AssessmentResults
# AssessmentResults.oscal_read(pathlib.Path(sys.argv[1]))' tapaudit.oscal.json
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TRESTLE_VERSION="5.2.0"
venv="${TAPAUDIT_OSCAL_VENV:-$root/.tools/oscal-venv}"

installed() {
  [ -x "$venv/bin/python" ] && "$venv/bin/python" - "$TRESTLE_VERSION" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if version("compliance-trestle") == sys.argv[1] else 1)
PY
}

if ! installed; then
  mkdir -p "$(dirname "$venv")"
  exec 9>"$(dirname "$venv")/.oscal-venv.lock"
  flock 9
  if ! installed; then
    echo "oscal-venv: installing compliance-trestle==$TRESTLE_VERSION into $venv" >&2
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "compliance-trestle==$TRESTLE_VERSION" >&2
    installed || { echo "oscal-venv: compliance-trestle did not install" >&2; exit 2; }
  fi
  exec 9>&-
fi
echo "$venv/bin/python"
