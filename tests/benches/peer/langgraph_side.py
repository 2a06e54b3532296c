"""LangGraph's side of the peer benchmark (see peer.py): one workload per call,
its result printed as one JSON object on stdout.

    python langgraph_side.py chain N [--durable DIR]
    python langgraph_side.py subprocess N
    python langgraph_side.py concurrent RUNS NODES [--durable DIR]
    python langgraph_side.py waiting RUNS
    python langgraph_side.py waiting_tool RUNS
"""

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import time
from typing import TypedDict


class State(TypedDict):
    n: int


def step(state: State) -> dict:
    return {"n": state["n"] + 1}


async def astep(state: State) -> dict:
    return {"n": state["n"] + 1}


def chain(nodes: int, node, checkpointer=None):
    from langgraph.graph import END, START, StateGraph

    graph = StateGraph(State)
    for i in range(nodes):
        graph.add_node(f"n{i}", node)
    graph.add_edge(START, "n0")
    for i in range(nodes - 1):
        graph.add_edge(f"n{i}", f"n{i + 1}")
    graph.add_edge(f"n{nodes - 1}", END)
    return graph.compile(checkpointer=checkpointer)


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def run_chain(nodes: int, durable_dir):
    """A chain of counter nodes, invoked once: milliseconds per step."""
    checkpointer = None
    if durable_dir:
        from langgraph.checkpoint.sqlite import SqliteSaver

        conn = sqlite3.connect(
            os.path.join(durable_dir, "lg.sqlite"), check_same_thread=False
        )
        conn.execute("PRAGMA synchronous=FULL")
        checkpointer = SqliteSaver(conn)
    app = chain(nodes, step, checkpointer)
    config = {"recursion_limit": nodes + 10, "configurable": {"thread_id": "t"}}
    start = time.perf_counter()
    if durable_dir:
        out = app.invoke({"n": 0}, config, durability="sync")
    else:
        out = app.invoke({"n": 0}, config)
    took = time.perf_counter() - start
    assert out["n"] == nodes, out
    return {"ms_per_step": took * 1000 / nodes}


def run_subprocess(count: int):
    """`subprocess.run("true", shell=True)`: milliseconds each."""
    start = time.perf_counter()
    for _ in range(count):
        subprocess.run("true", shell=True, check=True)
    return {"ms_each": (time.perf_counter() - start) * 1000 / count}


async def run_concurrent(runs: int, nodes: int, durable_dir):
    """`runs` pipelines of `nodes` counter nodes at once (asyncio.gather):
    steps per second."""
    if durable_dir:
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

        async with AsyncSqliteSaver.from_conn_string(
            os.path.join(durable_dir, "lg.sqlite")
        ) as saver:
            await saver.conn.execute("PRAGMA synchronous=FULL")
            return await gather(chain(nodes, astep, saver), runs, nodes, "sync")
    return await gather(chain(nodes, astep), runs, nodes, None)


async def gather(app, runs, nodes, durability):
    def config(i):
        return {"recursion_limit": nodes + 10, "configurable": {"thread_id": f"t{i}"}}

    kwargs = {"durability": durability} if durability else {}
    start = time.perf_counter()
    outs = await asyncio.gather(
        *(app.ainvoke({"n": 0}, config(i), **kwargs) for i in range(runs))
    )
    took = time.perf_counter() - start
    assert all(o["n"] == nodes for o in outs)
    return {"steps_per_s": runs * nodes / took}


def first_then(name: str, node):
    """A counter node, then `node` (named `name`), compiled."""
    from langgraph.graph import END, START, StateGraph

    graph = StateGraph(State)
    graph.add_node("first", astep)
    graph.add_node(name, node)
    graph.add_edge(START, "first")
    graph.add_edge("first", name)
    graph.add_edge(name, END)
    return graph.compile()


async def run_waiting(runs: int):
    """`runs` pipelines each waiting in a node (as at a gate): resident
    bytes per waiting run."""
    release = asyncio.Event()
    waiting = 0

    async def gate(state: State) -> dict:
        nonlocal waiting
        waiting += 1
        await release.wait()
        return {"n": state["n"] + 1}

    app = first_then("gate", gate)
    # Warmed up first, so that what is measured is the runs, not the
    # imports and caches of a first invocation.
    await chain(2, astep).ainvoke({"n": 0})
    before = rss_kib()
    tasks = [asyncio.create_task(app.ainvoke({"n": 0})) for _ in range(runs)]
    while waiting < runs:
        await asyncio.sleep(0.05)
    after = rss_kib()
    release.set()
    await asyncio.gather(*tasks)
    return {"bytes_per_run": (after - before) * 1024 / runs}


async def run_waiting_tool(runs: int):
    """`runs` pipelines each waiting in a node for a shell command (`sleep`)
    it started: resident bytes per waiting run."""
    started = []

    async def tool(state: State) -> dict:
        proc = await asyncio.create_subprocess_shell("sleep 61")
        started.append(proc)
        await proc.wait()
        return {"n": state["n"] + 1}

    app = first_then("tool", tool)
    await chain(2, astep).ainvoke({"n": 0})
    before = rss_kib()
    tasks = [asyncio.create_task(app.ainvoke({"n": 0})) for _ in range(runs)]
    while len(started) < runs:
        await asyncio.sleep(0.05)
    after = rss_kib()
    for proc in started:
        proc.kill()
    await asyncio.gather(*tasks)
    return {"bytes_per_run": (after - before) * 1024 / runs}


def main(argv):
    what = argv[1]
    durable = None
    if "--durable" in argv:
        durable = argv[argv.index("--durable") + 1]
    if what == "chain":
        result = run_chain(int(argv[2]), durable)
    elif what == "subprocess":
        result = run_subprocess(int(argv[2]))
    elif what == "concurrent":
        result = asyncio.run(run_concurrent(int(argv[2]), int(argv[3]), durable))
    elif what == "waiting":
        result = asyncio.run(run_waiting(int(argv[2])))
    elif what == "waiting_tool":
        result = asyncio.run(run_waiting_tool(int(argv[2])))
    else:
        raise SystemExit(f"unknown workload {what}")
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv)
