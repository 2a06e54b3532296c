#!/usr/bin/env bash
# tracker against LangGraph, side by side in one invocation (peer.py says
# what is measured and how). Builds tracker in release mode and installs
# LangGraph 1.2 into its own virtual environment (target/peer-venv), then
# runs the rounds.
#
#   tests/benches/peer/run.sh [--rounds N] [--only TEXT]
set -euo pipefail
cd "$(dirname "$0")/../../.."
venv=target/peer-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "langgraph==1.2.*" "langgraph-checkpoint-sqlite" "aiosqlite"
fi
cargo build --release --quiet -p tracker-cli
cargo bench --quiet -p tracker-tests --bench floor --no-run
exec python3 tests/benches/peer/peer.py --tracker target/release/tracker --python "$venv/bin/python" "$@"
