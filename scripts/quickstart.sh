#!/usr/bin/env bash
# The main job end to end on this machine: start the local AWS emulator, build tapaudit,
# provision the default stack (stacks/dev.toml), print its outputs, scan it, print the table
# and write the reports (reports/dev/tapaudit.{txt,json,sarif}).
# The emulator keeps running afterwards; stop it with: scripts/emulator.sh stop
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tapaudit/target}"
port="${TAPAUDIT_EMULATOR_PORT:-5000}"
stack="${1:-dev}"

scripts/emulator.sh start "$port"
cargo build --locked --bin tapaudit
bin="$CARGO_TARGET_DIR/debug/tapaudit"

# the emulator accepts any credentials; real AWS uses your normal credential chain instead
export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-testing}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-testing}"
unset AWS_PROFILE

"$bin" validate --stack "$stack"
"$bin" provision --stack "$stack"
echo
status=0
"$bin" scan --stack "$stack" || status=$?
echo
echo "Stack $stack is up at $AWS_ENDPOINT_URL; scan exit code $status (0 clean, 1 failing findings, 2 incomplete). Try:"
echo "  AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing $bin scan --stack $stack --format sarif"
echo "  AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing $bin plan --stack $stack"
echo "  scripts/emulator.sh stop $port"
exit "$status"
