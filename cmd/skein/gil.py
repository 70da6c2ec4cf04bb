"""The Python side of `skein bench gil`: the seed's GIL demonstration.

skein embeds this file and runs it once per contender and round, so that
the Python and Go contenders take turns on the machine:

    python3 gil.py --kind cpu --contender threads --n 10000000 --tasks 2 --workers 2

prints one JSON object: the seconds the tasks took (pool start excluded),
the seconds the pool took to start, and every task's result (as a string:
Python's integers are unbounded, skein checks them exactly).

Run by hand without --contender, it measures every contender itself and
prints a table (python3 cmd/skein/gil.py --rounds 3).
"""

import argparse
import json
import statistics
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor


def cpu_bound_task(n):
    """The seed's CPU-intensive task: the GIL serialises it across threads."""
    total = 0
    for i in range(n):
        total += i * i
    return total


def io_bound_task(seconds):
    """The seed's IO-bound task: sleeping releases the GIL."""
    time.sleep(seconds)
    return "IO complete"


def noop(_):
    return None


def work(args):
    """The task function and its argument for args.kind."""
    if args.kind == "cpu":
        return cpu_bound_task, args.n, args.tasks
    return io_bound_task, args.io_ms / 1000, args.io_tasks


def measure(args):
    """Run one contender once: (seconds, setup seconds, results)."""
    fn, arg, count = work(args)
    if args.contender == "sequential":
        t0 = time.perf_counter()
        results = [fn(arg) for _ in range(count)]
        return time.perf_counter() - t0, 0.0, results
    executor = ThreadPoolExecutor if args.contender == "threads" else ProcessPoolExecutor
    t0 = time.perf_counter()
    with executor(max_workers=args.workers) as ex:
        # Start the workers before timing, as skein does with its pools:
        # the table reports pool start separately.
        list(ex.map(noop, range(args.workers)))
        setup = time.perf_counter() - t0
        t0 = time.perf_counter()
        futures = [ex.submit(fn, arg) for _ in range(count)]
        results = [f.result() for f in futures]
        seconds = time.perf_counter() - t0
    return seconds, setup, results


def table(args):
    """Every contender, interleaved over args.rounds rounds; medians."""
    names = ["sequential", "threads", "processes"]
    for kind in ("cpu", "io"):
        args.kind = kind
        times = {name: [] for name in names}
        for r in range(args.rounds):
            for k in range(len(names)):
                args.contender = names[(k + r) % len(names)]
                seconds, _, _ = measure(args)
                times[args.contender].append(seconds)
        seq = statistics.median(times["sequential"])
        print(f"{kind}-bound, {args.workers} workers, median of {args.rounds} rounds:")
        for name in names:
            m = statistics.median(times[name])
            print(f"  {name:<12} {m:8.3f} s  {seq / m:5.2f}x")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--kind", choices=["cpu", "io"], default="cpu")
    p.add_argument("--contender", choices=["sequential", "threads", "processes"])
    p.add_argument("--n", type=int, default=10**7, help="cpu_bound_task(n)")
    p.add_argument("--tasks", type=int, default=2, help="CPU-bound tasks")
    p.add_argument("--workers", type=int, default=2, help="max_workers of both executors")
    p.add_argument("--io-tasks", type=int, default=10, help="IO-bound tasks")
    p.add_argument("--io-ms", type=float, default=100, help="each IO-bound task's sleep, in ms")
    p.add_argument("--rounds", type=int, default=3, help="rounds of the table (without --contender)")
    args = p.parse_args()
    if args.contender is None:
        table(args)
        return
    seconds, setup, results = measure(args)
    print(json.dumps({"seconds": seconds, "setup": setup, "results": [str(r) for r in results]}))


if __name__ == "__main__":
    main()
