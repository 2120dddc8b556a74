#!/usr/bin/env bash
# Headless Chromium for the HTML report's browser test (tests/html_report.rs): installs Debian's
# `chromium` package when it is missing, then prints the browser's path. Idempotent; safe to run
# from several test processes at once (one apt run at a time, behind a lock).
#   scripts/chromium.sh          install if needed, print the path
# $TAPAUDIT_CHROMIUM names another browser binary to use (nothing is installed then).
set -euo pipefail

if [ -n "${TAPAUDIT_CHROMIUM:-}" ]; then
  [ -x "$TAPAUDIT_CHROMIUM" ] || { echo "chromium.sh: TAPAUDIT_CHROMIUM=$TAPAUDIT_CHROMIUM is not executable" >&2; exit 1; }
  echo "$TAPAUDIT_CHROMIUM"
  exit 0
fi

bin=/usr/bin/chromium
if [ ! -x "$bin" ]; then
  if ! command -v apt-get >/dev/null; then
    echo "chromium.sh: $bin is missing and there is no apt-get to install it (set TAPAUDIT_CHROMIUM)" >&2
    exit 1
  fi
  sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "chromium.sh: installing chromium needs root (or sudo)" >&2; exit 1; }
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  lock="${TMPDIR:-/tmp}/tapaudit-chromium.lock"
  (
    flock -w 900 9 || { echo "chromium.sh: timed out waiting for $lock" >&2; exit 1; }
    if [ ! -x "$bin" ]; then
      echo "chromium.sh: installing Debian's chromium package" >&2
      apt_opts=(-y -q -o DPkg::Lock::Timeout=600 --no-install-recommends)
      if ! $sudo apt-get install "${apt_opts[@]}" chromium >&2; then
        $sudo apt-get update -q -o DPkg::Lock::Timeout=600 >&2
        $sudo apt-get install "${apt_opts[@]}" chromium >&2
      fi
    fi
  ) 9>"$lock"
fi
[ -x "$bin" ] || { echo "chromium.sh: $bin is still missing after apt-get install chromium" >&2; exit 1; }
echo "$bin"
