#!/usr/bin/env bash
# Takes the README's dashboard screenshots from the real binary under tmux:
# `tracker run review_loop` waiting at its gate, then `tracker dash` over
# that run and two finished ones. Needs tmux and a built binary.
#
#   docs/screenshots/take.sh [path/to/tracker]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tracker="$(realpath "${1:-$here/../../target/debug/tracker}")"
work="$(mktemp -d)"
sock="tracker-shot-$$"
# (The runs get a moment to end before their directory goes.)
trap 'tmux -L "$sock" kill-server >/dev/null 2>&1 || true; sleep 1; rm -rf "$work"' EXIT

# Waits until the pane shows $1 (30 s at most), then a moment for the frame.
wait_for() {
  for _ in $(seq 1 150); do
    if tmux -L "$sock" capture-pane -p | grep -qF -- "$1"; then
      sleep 0.3
      return 0
    fi
    sleep 0.2
  done
  echo "timed out waiting for: $1" >&2
  exit 1
}

cd "$work"
"$tracker" run quickstart --provider stub --no-tui >/dev/null
"$tracker" run quickstart --provider stub --no-tui >/dev/null
tmux -L "$sock" new-session -d -x 100 -y 28 "cd '$work' && '$tracker' run review_loop --provider stub; sleep 600"
wait_for "gate Approve"
tmux -L "$sock" capture-pane -p | sed 's/[[:space:]]*$//' > "$here/run.txt"
# Approve, and let the run finish.
tmux -L "$sock" send-keys Enter
wait_for "Run ID:"
tmux -L "$sock" kill-server
sock="$sock-board"
tmux -L "$sock" new-session -d -x 100 -y 12 "cd '$work' && '$tracker' run review_loop --provider stub --no-tui >/dev/null; sleep 600"
tmux -L "$sock" split-window -v -l 11 "cd '$work' && '$tracker' dash; sleep 600"
wait_for "waiting at a gate"
tmux -L "$sock" capture-pane -p -t 1 | sed 's/[[:space:]]*$//' > "$here/dash.txt"
echo "wrote $here/run.txt and $here/dash.txt"
