#!/usr/bin/env bash
# Side-by-side transition benchmark: this checkout against an earlier commit,
# run interleaved in one invocation (this machine's speed varies from run to
# run, so only figures taken together compare).
#
#   tests/benches/compare_transitions.sh [BASE_REV] [ROUNDS]
#
# BASE_REV defaults to HEAD~1, ROUNDS to 3. The base is checked out in a
# temporary worktree and built into target/compare-base (kept, so a rerun
# against the same base builds little); both bench binaries are built in
# release mode first, then run alternately, base first in odd rounds and head
# first in even ones. Prints each round's
# table with its label; compare row by row, median of the rounds.
set -euo pipefail
cd "$(dirname "$0")/../.."
base_rev="${1:-HEAD~1}"
rounds="${2:-3}"
work="$(mktemp -d)"
trap 'git worktree remove --force "$work/base" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

bench_binary() { # DIR TARGET_DIR -> path of the built transitions bench
  (cd "$1" && CARGO_TARGET_DIR="$2" cargo bench -p tracker-actors --bench transitions --no-run \
      --message-format=json 2>/dev/null) |
    python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "transitions" and m.get("executable"):
        print(m["executable"])'
}

git worktree add --detach "$work/base" "$base_rev" >/dev/null
# The base builds against the same shared corpus path layout.
ln -s "$(cd .. && pwd)/shared" "$work/shared" 2>/dev/null || true
echo "building base ($(git rev-parse --short "$base_rev")) and head ($(git rev-parse --short HEAD))…" >&2
target="${CARGO_TARGET_DIR:-$PWD/target}"
base_bin="$(bench_binary "$work/base" "$target/compare-base")"
head_bin="$(bench_binary "$PWD" "$target")"
# The worktree goes when the script ends; the binaries are copied out first.
cp "$base_bin" "$work/base-bench" && base_bin="$work/base-bench"
for round in $(seq 1 "$rounds"); do
  # Odd rounds run the base first, even rounds the head: the disk's periodic
  # writeback then falls on both sides alike instead of always on one.
  order="base head"
  if (( round % 2 == 0 )); then order="head base"; fi
  for side in $order; do
    bin="${side}_bin"
    echo "### round $round: $side"
    "${!bin}" --bench
  done
done
