#!/usr/bin/env bash
# The whole test suite: installs what it needs (the moto venv, the SARIF validators), builds,
# runs unit, snapshot and end-to-end tests. Each end-to-end test starts its own emulator on a
# free loopback port.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# a persistent target dir outside the clone: the AWS SDK crates take long to build from clean
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tapaudit/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
scripts/emulator.sh venv >/dev/null
cargo fmt --check
cargo build --locked --all-targets
cargo test --locked --no-fail-fast -- --test-threads "${TAPAUDIT_TEST_THREADS:-3}"
