"""Durable steps per second in one `tracker serve` as concurrent runs grow
(ADR 0012's claim): N runs of a stub chain, 2,000 steps in all, submitted
together to a durable service; steps per second from the first event to the
last, as peer.py measures. Give several binaries to compare them side by side
in one invocation (rounds alternate which goes first); nothing is deleted
between rounds.

    python3 tests/benches/peer/durable_scaling.py BINARY [BINARY...] [--rounds 3]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer  # noqa: E402

STEPS = 2000
CONCURRENCY = (1, 10, 50)


def steps_per_second(tracker, runs):
    work = tracker.workdir(f"durable-{runs}")
    flow = os.path.join(work, "chain.dip")
    nodes = STEPS // runs
    with open(flow, "w") as f:
        f.write(peer.stub_chain("Chain", nodes))
    proc, sock = tracker.service(work, True)
    try:
        for _ in range(runs):
            peer.call(sock, "POST", "/v1/runs", {"pipeline": flow, "workdir": work, "provider": "stub"})
        while True:
            listed = peer.call(sock, "GET", "/v1/runs")["runs"]
            if all(r["status"] not in ("queued", "running") for r in listed):
                break
            time.sleep(0.1)
        if any(r["status"] != "success" for r in listed):
            raise SystemExit(f"{tracker.binary}: a run failed")
    finally:
        proc.terminate()
        proc.wait()
    span, counted = peer.span_of_logs(os.path.join(work, ".tracker", "runs"))
    assert counted == runs, counted
    return runs * nodes / span


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binaries", nargs="+")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="durable-scaling-")
    trackers = {}
    for n, binary in enumerate(args.binaries):
        trackers[binary] = peer.Tracker(binary, os.path.join(scratch, str(n)))
        os.makedirs(trackers[binary].scratch)
    results = {(b, n): [] for b in args.binaries for n in CONCURRENCY}
    for round_ in range(args.rounds):
        order = args.binaries if round_ % 2 == 0 else list(reversed(args.binaries))
        for runs in CONCURRENCY:
            for binary in order:
                results[(binary, runs)].append(steps_per_second(trackers[binary], runs))
    print("| binary | " + " | ".join(f"{n} run{'s' if n > 1 else ''}" for n in CONCURRENCY) + " |")
    print("|---|" + "---|" * len(CONCURRENCY))
    for binary in args.binaries:
        cells = [f"{statistics.median(results[(binary, n)]):,.0f} steps/s" for n in CONCURRENCY]
        print(f"| {binary} | " + " | ".join(cells) + " |")
    print(f"(median of {args.rounds} rounds; scratch directory {scratch})")


if __name__ == "__main__":
    main()
