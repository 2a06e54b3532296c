"""tracker against LangGraph, side by side in one invocation (issue 12's
table). Run it with `tests/benches/peer/run.sh`, which builds tracker in
release mode and installs LangGraph into its own virtual environment first.
For the per-step rows it also measures the floor: the same files and processes
a tracker step makes, made by a loop that does nothing else
(`tests/benches/floor.rs`), so the table says how far tracker is from what the
machine costs as well as from LangGraph.

    python3 peer.py --tracker PATH --python VENV_PYTHON [--rounds 5]

Each round runs every workload on both sides, alternating which goes first;
the table shows the median of the rounds and the ratio (tracker's time over
LangGraph's: below 1, tracker is faster; for memory, tracker's bytes over
LangGraph's). tracker's times come from its own activity logs (first event
to last), as LangGraph's cover its `invoke` only: neither side pays its
start-up or its graph's loading. Run directories are kept until the end (no
deletes between timed rounds: on this machine's file system, deleting many
files slows later file creation for a while).
"""

import argparse
import datetime
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))

CHAIN = 1000
TOOLS = 200
RUNS = 1000
RUN_NODES = 10
WAITING = 200


def stub_chain(name, nodes):
    """A chain of `nodes` agent nodes on the offline stub provider."""
    lines = [f"workflow {name}", "  start: N0", f"  exit: N{nodes - 1}", "  defaults",
             "    provider: stub", "    model: stub-model"]
    for i in range(nodes):
        lines += [f"  agent N{i}", f"    prompt: step {i}"]
    lines.append("  edges")
    lines += [f"    N{i} -> N{i + 1}" for i in range(nodes - 1)]
    return "\n".join(lines) + "\n"


def tool_chain(nodes):
    """A start and an exit agent around `nodes` tool nodes running `true`."""
    lines = ["workflow Tools", "  start: Start", "  exit: Done", "  agent Start",
             "    label: Start", "  agent Done", "    label: Done"]
    for i in range(nodes):
        lines += [f"  tool T{i}", "    timeout: 10s", "    command: true"]
    lines.append("  edges")
    order = ["Start"] + [f"T{i}" for i in range(nodes)] + ["Done"]
    lines += [f"    {a} -> {b}" for a, b in zip(order, order[1:])]
    return "\n".join(lines) + "\n"


SLEEPY = """workflow Sleeps
  start: Start
  exit: Done
  agent Start
    label: Start
  tool Nap
    timeout: 120s
    command: sleep 61
  agent Done
    label: Done
  edges
    Start -> Nap
    Nap -> Done
"""

GATED = """workflow Waits
  start: Start
  exit: Done
  agent Start
    label: Start
  human Gate
    label: "Go on?"
    mode: choice
  agent Done
    label: Done
  edges
    Start -> Gate
    Gate -> Done  label: yes
"""


def stamp(ts):
    return datetime.datetime.fromisoformat(ts).timestamp()


def span_of_logs(runs_root):
    """Seconds from the first event to the last over every run's
    activity.jsonl under `runs_root`, and how many runs there were."""
    first, last, runs = None, None, 0
    for run in os.listdir(runs_root):
        log = os.path.join(runs_root, run, "activity.jsonl")
        if not os.path.exists(log):
            continue
        runs += 1
        with open(log) as f:
            lines = [l for l in f if l.strip()]
        start = stamp(json.loads(lines[0])["ts"])
        end = stamp(json.loads(lines[-1])["ts"])
        first = start if first is None else min(first, start)
        last = end if last is None else max(last, end)
    return last - first, runs


class Tracker:
    def __init__(self, binary, scratch):
        self.binary = binary
        self.scratch = scratch
        self.count = 0

    def workdir(self, label):
        self.count += 1
        path = os.path.join(self.scratch, f"tracker-{label}-{self.count}")
        os.makedirs(path)
        return path

    def run(self, workdir, args):
        out = subprocess.run([self.binary, "run", *args, "--no-tui"], cwd=workdir,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if out.returncode != 0:
            raise SystemExit(f"tracker run failed: {out.stderr}")

    def chain(self, durable):
        work = self.workdir("chain")
        with open(os.path.join(work, "chain.dip"), "w") as f:
            f.write(stub_chain("Chain", CHAIN))
        self.run(work, ["chain.dip", "--provider", "stub"] + ([] if durable else ["--no-fsync"]))
        span, _ = span_of_logs(os.path.join(work, ".tracker", "runs"))
        return span * 1000 / CHAIN

    def tools(self):
        work = self.workdir("tools")
        with open(os.path.join(work, "tools.dip"), "w") as f:
            f.write(tool_chain(TOOLS))
        self.run(work, ["tools.dip", "--provider", "stub", "--no-fsync"])
        span, _ = span_of_logs(os.path.join(work, ".tracker", "runs"))
        return span * 1000 / (TOOLS + 2)

    def service(self, work, durable):
        sock = os.path.join(work, "s", "tracker.sock")
        args = [self.binary, "serve", "--socket", sock, "--state-dir", os.path.join(work, "state")]
        if not durable:
            args.append("--no-fsync")
        proc = subprocess.Popen(args, cwd=work, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        for line in proc.stderr:
            if "tracker service listening" in line:
                break
        else:
            raise SystemExit("the service did not start")
        # Keep its log drained.
        import threading
        threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()
        return proc, sock

    def concurrent(self, durable):
        work = self.workdir("concurrent")
        flow = os.path.join(work, "ten.dip")
        with open(flow, "w") as f:
            f.write(stub_chain("Ten", RUN_NODES))
        proc, sock = self.service(work, durable)
        try:
            for _ in range(RUNS):
                call(sock, "POST", "/v1/runs", {"pipeline": flow, "workdir": work, "provider": "stub"})
            while True:
                runs = call(sock, "GET", "/v1/runs")["runs"]
                if all(r["status"] not in ("queued", "running") for r in runs):
                    break
                time.sleep(0.2)
            bad = [r for r in runs if r["status"] != "success"]
            if bad:
                raise SystemExit(f"runs failed: {bad[:3]}")
        finally:
            proc.terminate()
            proc.wait()
        span, runs = span_of_logs(os.path.join(work, ".tracker", "runs"))
        assert runs == RUNS, runs
        return RUNS * RUN_NODES / span

    def waiting(self):
        work = self.workdir("waiting")
        flow = os.path.join(work, "gated.dip")
        with open(flow, "w") as f:
            f.write(GATED)
        proc, sock = self.service(work, False)
        try:
            # One run to its gate and back first: what is measured is the
            # runs, not the first run's warm-up.
            first = call(sock, "POST", "/v1/runs", {"pipeline": flow, "workdir": work, "provider": "stub"})["run_id"]
            wait_for(lambda: call(sock, "GET", f"/v1/runs/{first}").get("waiting_gate"))
            call(sock, "POST", f"/v1/runs/{first}/gates/Gate", {"answer": "yes"})
            wait_for(lambda: call(sock, "GET", f"/v1/runs/{first}")["status"] == "success")
            before = pss_kib(proc.pid)
            for _ in range(WAITING):
                call(sock, "POST", "/v1/runs", {"pipeline": flow, "workdir": work, "provider": "stub"})
            wait_for(lambda: sum(1 for r in call(sock, "GET", "/v1/runs")["runs"]
                                 if r.get("waiting_gate")) == WAITING)
            after = pss_kib(proc.pid)
        finally:
            proc.terminate()
            proc.wait()
        return (after - before) * 1024 / WAITING


    def waiting_tool(self):
        """Bytes per run waiting in a tool node's `sleep`, and the service's
        threads then (a waiting run must cost no thread)."""
        work = self.workdir("waiting-tool")
        flow = os.path.join(work, "sleepy.dip")
        with open(flow, "w") as f:
            f.write(SLEEPY.replace("sleep 61", "true"))
        proc, sock = self.service(work, False)
        try:
            # One run through first, as for the gate row.
            first = call(sock, "POST", "/v1/runs", {"pipeline": flow, "workdir": work, "provider": "stub"})["run_id"]
            wait_for(lambda: call(sock, "GET", f"/v1/runs/{first}")["status"] == "success")
            with open(flow, "w") as f:
                f.write(SLEEPY)
            before, threads_before = pss_kib(proc.pid), threads(proc.pid)
            for _ in range(WAITING):
                call(sock, "POST", "/v1/runs", {"pipeline": flow, "workdir": work, "provider": "stub"})
            wait_for(lambda: sleeping(work) == WAITING)
            after, threads_after = pss_kib(proc.pid), threads(proc.pid)
        finally:
            proc.terminate()
            proc.wait()
        print(f"  tracker service threads: {threads_before} idle, {threads_after} with "
              f"{WAITING} runs in a tool", file=sys.stderr)
        return (after - before) * 1024 / WAITING


def threads(pid):
    return proc_field(f"/proc/{pid}/status", "Threads:")


def sleeping(workdir):
    """How many `sleep 61` processes run in `workdir`."""
    count = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if f.read() != b"sleep\x0061\x00":
                    continue
            if os.readlink(f"/proc/{pid}/cwd") == workdir:
                count += 1
        except OSError:
            continue
    return count


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("tracker")
        self.unix_path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(self.unix_path)
        self.sock = sock


def call(sock, method, path, body=None):
    conn = UnixConnection(sock)
    data = json.dumps(body).encode() if body is not None else None
    headers = {"content-type": "application/json"} if data else {}
    conn.request(method, path, body=data, headers=headers)
    reply = conn.getresponse()
    text = reply.read()
    conn.close()
    if reply.status >= 400:
        raise SystemExit(f"{method} {path}: {reply.status} {text!r}")
    return json.loads(text)


def wait_for(done, limit=300):
    deadline = time.time() + limit
    while not done():
        if time.time() > deadline:
            raise SystemExit("gave up waiting")
        time.sleep(0.1)


def pss_kib(pid):
    return proc_field(f"/proc/{pid}/smaps_rollup", "Pss:")


def proc_field(path, name):
    """The number after `name` on its line of a /proc file (0 when absent)."""
    with open(path) as f:
        for line in f:
            if line.startswith(name):
                return int(line.split()[1])
    return 0


class LangGraph:
    def __init__(self, python, scratch):
        self.python = python
        self.scratch = scratch
        self.count = 0

    def side(self, *args):
        out = subprocess.run([self.python, os.path.join(HERE, "langgraph_side.py"), *map(str, args)],
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f"langgraph {args}: {out.stderr}")
        return json.loads(out.stdout.strip().splitlines()[-1])

    def durable_dir(self):
        self.count += 1
        path = os.path.join(self.scratch, f"langgraph-{self.count}")
        os.makedirs(path)
        return path

    def chain(self, durable):
        extra = ["--durable", self.durable_dir()] if durable else []
        return self.side("chain", CHAIN, *extra)["ms_per_step"]

    def tools(self):
        return self.side("subprocess", TOOLS)["ms_each"]

    def concurrent(self, durable):
        extra = ["--durable", self.durable_dir()] if durable else []
        return self.side("concurrent", RUNS, RUN_NODES, *extra)["steps_per_s"]

    def waiting(self):
        return self.side("waiting", WAITING)["bytes_per_run"]

    def waiting_tool(self):
        return self.side("waiting_tool", WAITING)["bytes_per_run"]


class Floor:
    """The machine's cost of the files and processes a tracker step must make,
    with nothing else (`tests/benches/floor.rs`): what no implementation
    writing the reference's run files can go below on this machine."""

    def __init__(self, scratch):
        self.scratch = scratch

    def side(self, *args):
        out = subprocess.run(["cargo", "bench", "--quiet", "-p", "tracker-tests", "--bench", "floor",
                              "--", *map(str, args)], capture_output=True, text=True, cwd=ROOT)
        if out.returncode != 0:
            raise SystemExit(f"floor {args}: {out.stderr}")
        return json.loads(out.stdout.strip().splitlines()[-1])["ms_per_step"]

    def chain(self, durable):
        return self.side("chain", CHAIN, self.scratch, *(["--durable"] if durable else []))

    def tools(self):
        return self.side("tools", TOOLS, self.scratch)


# (label, unit, how tracker does it, how LangGraph does it, higher is better,
# the floor of tracker's work when there is one)
WORKLOADS = [
    ("per step, no durability (stub agent node vs a counter node, no checkpointer)", "ms",
     lambda t: t.chain(False), lambda l: l.chain(False), False, lambda f: f.chain(False)),
    ("per step, durable (fsync vs SqliteSaver, sync)", "ms",
     lambda t: t.chain(True), lambda l: l.chain(True), False, lambda f: f.chain(True)),
    ("tool node running `true` vs `subprocess.run(\"true\", shell=True)`", "ms",
     lambda t: t.tools(), lambda l: l.tools(), False, lambda f: f.tools()),
    (f"{RUNS:,} concurrent {RUN_NODES}-node pipelines, no durability (one service vs `asyncio.gather`)",
     "steps/s", lambda t: t.concurrent(False), lambda l: l.concurrent(False), True, None),
    ("the same, durable", "steps/s",
     lambda t: t.concurrent(True), lambda l: l.concurrent(True), True, None),
    ("memory per run waiting at a gate (service PSS vs RSS per pending run)", "bytes",
     lambda t: t.waiting(), lambda l: l.waiting(), False, None),
    ("memory per run waiting in a tool's `sleep` (service PSS vs RSS per pending subprocess)", "bytes",
     lambda t: t.waiting_tool(), lambda l: l.waiting_tool(), False, None),
]


def fmt(value, unit):
    if unit == "ms":
        return f"{value:.3f} ms"
    if unit == "steps/s":
        return f"{value:,.0f} steps/s"
    return f"{value / 1024:,.1f} KiB"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tracker", required=True)
    parser.add_argument("--python", required=True)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", help="run the workloads whose label contains this")
    args = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="peer-bench-")
    tracker = Tracker(os.path.abspath(args.tracker), scratch)
    langgraph = LangGraph(args.python, scratch)
    floor = Floor(scratch)
    workloads = [w for w in WORKLOADS if not args.only or args.only in w[0]]
    results = {w[0]: ([], [], []) for w in workloads}
    for round_no in range(args.rounds):
        for label, unit, ours, theirs, _, lowest in workloads:
            sides = [(0, lambda: ours(tracker)), (1, lambda: theirs(langgraph))]
            if lowest:
                sides.append((2, lambda: lowest(floor)))
            if round_no % 2:
                sides.reverse()
            for which, measure in sides:
                results[label][which].append(measure())
            print(f"round {round_no + 1}: {label}: tracker {fmt(results[label][0][-1], unit)}, "
                  f"LangGraph {fmt(results[label][1][-1], unit)}"
                  + (f", floor {fmt(results[label][2][-1], unit)}" if lowest else ""),
                  file=sys.stderr, flush=True)
    print("\n| work | tracker | LangGraph | ratio (ours / theirs, time) | floor | tracker / floor |")
    print("|---|---|---|---|---|---|")
    for label, unit, _, _, higher_better, lowest in workloads:
        ours = statistics.median(results[label][0])
        theirs = statistics.median(results[label][1])
        # A time ratio: for throughput, theirs over ours.
        ratio = theirs / ours if higher_better else ours / theirs
        if lowest:
            least = statistics.median(results[label][2])
            floor_cells = f"{fmt(least, unit)} | {ours / least:.2f}"
        else:
            floor_cells = "– | –"
        print(f"| {label} | {fmt(ours, unit)} | {fmt(theirs, unit)} | {ratio:.2f} | {floor_cells} |")
    print(f"\n{args.rounds} rounds, medians; scratch files in {scratch}")


if __name__ == "__main__":
    main()
