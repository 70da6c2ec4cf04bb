"""Python's multiprocessing Manager on the work of bench/ipc_manager_test.go.

A Manager serves one dict and one Lock; two worker processes update the
dict at once (both wait on an Event, so process start-up is left out of the
clock). Prints the median of several rounds in updates per second across
both workers, and how many increments were lost:

  locked-set        the seed's ProgressTracker.update: `with lock:
                    progress[task] = value` (three round trips to the
                    manager: acquire, set, release)
                    (row BenchmarkIPCManager/set)
  locked-increment  a shared counter: `with lock: d[k] = d.get(k, 0) + 1`
                    (four round trips) (rows BenchmarkIPCManager/add and
                    /lock-get-set-unlock)
  unlocked-set      `progress[task] = value` alone (one round trip), the
                    fastest a Manager dict update can be

Usage: python3 bench/python/manager.py [--rounds 5] [--n 5000]
"""

import argparse
import multiprocessing as mp
import statistics
import time


def locked_set(d, lock, task, n, ready, go):
    ready.release()
    go.wait()
    for i in range(n):
        with lock:
            d[task] = (i + 1) / n


def locked_increment(d, lock, task, n, ready, go):
    ready.release()
    go.wait()
    for _ in range(n):
        with lock:
            d["count"] = d.get("count", 0) + 1


def unlocked_set(d, lock, task, n, ready, go):
    ready.release()
    go.wait()
    for i in range(n):
        d[task] = (i + 1) / n


def run(manager, target, n):
    """Runs target in two processes at once; returns (seconds, dict copy)."""
    d = manager.dict()
    lock = manager.Lock()
    ready = mp.Semaphore(0)
    go = mp.Event()
    procs = [mp.Process(target=target, args=(d, lock, f"task-{w}", n, ready, go)) for w in range(2)]
    for p in procs:
        p.start()
    for _ in procs:
        ready.acquire()
    start = time.perf_counter()
    go.set()
    for p in procs:
        p.join()
    return time.perf_counter() - start, dict(d)


def bench(manager, name, target, n, rounds):
    times, lost = [], 0
    for _ in range(rounds):
        secs, final = run(manager, target, n)
        times.append(secs)
        if target is locked_increment:
            lost = max(lost, 2 * n - final.get("count", 0))
    secs = statistics.median(times)
    print(f"{name:18s} {2 * n / secs / 1e3:8.1f} k updates/s   lost {lost} of {2 * n}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--n", type=int, default=5_000, help="updates per process")
    args = parser.parse_args()
    print(f"2 processes x {args.n} updates, median of {args.rounds} rounds")
    with mp.Manager() as manager:
        bench(manager, "locked-set", locked_set, args.n, args.rounds)
        bench(manager, "locked-increment", locked_increment, args.n, args.rounds)
        bench(manager, "unlocked-set", unlocked_set, args.n, args.rounds)


if __name__ == "__main__":
    main()
