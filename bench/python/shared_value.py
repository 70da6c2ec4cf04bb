"""Python's multiprocessing Value on the work of bench/shm_test.go.

Two processes share one Value and run at once (both wait on an Event, so
process start-up is left out of the clock); prints the median of several
rounds in operations per second across both processes, and how many
updates were lost:

  locked-increment  the seed's increment_counter: `with counter.get_lock():
                    counter.value += 1` (row BenchmarkShm/locked-increment)
  atomic-add        Python has no atomic add on a Value: the closest is the
                    same locked increment on a Value('q') plus a Value('d')
                    and an Array('q') element, each under its own lock
                    (row BenchmarkShm/atomic-add, three adds per operation)
  unlocked          `counter.value += 1` without the lock, to show the
                    updates it loses

Usage: python3 bench/python/shared_value.py [--rounds 5] [--n 200000]
"""

import argparse
import multiprocessing as mp
import statistics
import time


def locked_increment(counter, n, ready, go):
    ready.release()
    go.wait()
    for _ in range(n):
        with counter.get_lock():
            counter.value += 1


def atomic_add(shared, n, ready, go):
    counter, total, array = shared
    ready.release()
    go.wait()
    for i in range(n):
        with counter.get_lock():
            counter.value += 1
        with total.get_lock():
            total.value += 0.5
        with array.get_lock():
            array[i % len(array)] += 1


def unlocked(counter, n, ready, go):
    ready.release()
    go.wait()
    for _ in range(n):
        counter.value += 1


def run(target, shared, n):
    """Runs target in two processes at once; returns seconds taken."""
    ready = mp.Semaphore(0)
    go = mp.Event()
    procs = [mp.Process(target=target, args=(shared, n, ready, go)) for _ in range(2)]
    for p in procs:
        p.start()
    for _ in procs:
        ready.acquire()
    start = time.perf_counter()
    go.set()
    for p in procs:
        p.join()
    return time.perf_counter() - start


def bench(name, make, target, n, rounds):
    times, lost = [], 0
    for _ in range(rounds):
        shared = make()
        times.append(run(target, shared, n))
        counter = shared[0] if isinstance(shared, tuple) else shared
        lost = max(lost, 2 * n - counter.value)
    secs = statistics.median(times)
    print(f"{name:18s} {2 * n / secs / 1e6:8.2f} M ops/s   lost {lost} of {2 * n}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--n", type=int, default=200_000, help="operations per process")
    args = parser.parse_args()
    print(f"2 processes x {args.n} operations, median of {args.rounds} rounds")
    bench("locked-increment", lambda: mp.Value("i", 0), locked_increment, args.n, args.rounds)
    bench(
        "atomic-add",
        lambda: (mp.Value("q", 0), mp.Value("d", 0.0), mp.Array("q", 8)),
        atomic_add,
        args.n,
        args.rounds,
    )
    bench("unlocked", lambda: mp.Value("i", 0), unlocked, args.n, args.rounds)


if __name__ == "__main__":
    main()
