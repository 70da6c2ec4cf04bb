"""Python's concurrent.futures on the work of bench/pool_test.go.

Times ThreadPoolExecutor (and, for the CPU-bound cases, the seed's
ProcessPoolExecutor) on the rows of the BenchmarkPool benchmarks, with as
many workers as CPUs, and prints the median of several rounds in µs per
task (or ns per item) and tasks per second:

  fire-and-forget  submit 10,000 no-op tasks, then wait for all (row 1)
  futures          submit 10,000 tasks, then result() each (row 2)
  round-trip       submit(f).result(), one task at a time (row 3)
  cpu-10us         10,000 CPU-bound tasks of ~10 µs: sequential, threads (row 4)
  map              ordered map of x*2: list comprehension, executor.map (row 5)
  gil              the seed's demo: 2 x cpu_bound_task(n), sequential,
                   ThreadPoolExecutor(2), ProcessPoolExecutor(2)

Usage: python3 bench/python/thread_pool.py [--rounds 5] [--gil-n 10000000]
"""

import argparse
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, wait

TASKS = 10_000
WORKERS = os.cpu_count() or 1


def tiny():
    """The no-op task of rows 1 to 3."""
    return 3


def cpu_bound_task(n):
    """The seed's CPU-bound task."""
    total = 0
    for i in range(n):
        total += i * i
    return total


def double(x):
    return x * 2


def median_seconds(fn, rounds):
    """Runs fn rounds times (after one warm-up) and returns the median time."""
    fn()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def report(name, seconds, count, unit="task"):
    per = seconds / count
    if unit == "task":
        print(f"{name:<34} {per * 1e6:10.2f} µs/task  {count / seconds:12.0f} tasks/s")
    else:
        print(f"{name:<34} {per * 1e9:10.1f} ns/item  {count / seconds:12.0f} items/s")
    return seconds


def bench_tiny(rounds):
    with ThreadPoolExecutor(max_workers=WORKERS) as ex:
        def fire_and_forget():
            wait([ex.submit(tiny) for _ in range(TASKS)])

        def futures():
            fs = [ex.submit(tiny) for _ in range(TASKS)]
            total = sum(f.result() for f in fs)
            assert total == 3 * TASKS, total

        def round_trip():
            for _ in range(TASKS):
                assert ex.submit(tiny).result() == 3

        report("fire-and-forget (row 1)", median_seconds(fire_and_forget, rounds), TASKS)
        report("futures, submit all + result (row 2)", median_seconds(futures, rounds), TASKS)
        report("round-trip submit().result() (row 3)", median_seconds(round_trip, rounds), TASKS)


def calibrate_10us():
    """Returns the cpu_bound_task size that takes about 10 µs here."""
    n = 100
    while True:
        start = time.perf_counter()
        for _ in range(100):
            cpu_bound_task(n)
        per = (time.perf_counter() - start) / 100
        if per >= 10e-6 or n > 1_000_000:
            return max(1, int(n * 10e-6 / per))
        n *= 2


def bench_cpu(rounds):
    n = calibrate_10us()
    tasks = TASKS // 10  # Python is slow enough that 1,000 tasks suffice

    def sequential():
        for _ in range(tasks):
            cpu_bound_task(n)

    seq = report(f"cpu-10us sequential (n={n})", median_seconds(sequential, rounds), tasks)
    with ThreadPoolExecutor(max_workers=WORKERS) as ex:
        def threads():
            wait([ex.submit(cpu_bound_task, n) for _ in range(tasks)])

        thr = report(f"cpu-10us ThreadPoolExecutor({WORKERS})", median_seconds(threads, rounds), tasks)
    print(f"{'  speed-up over sequential':<34} {seq / thr:10.2f}x  (the GIL: at most 1x)")


def bench_map(rounds):
    items = list(range(1_000_000))

    def comprehension():
        out = [double(x) for x in items]
        assert out[-1] == 2 * items[-1]

    report("map 1e6 list comprehension", median_seconds(comprehension, rounds), len(items), "item")
    few = items[:100_000]  # one future per item: 1e6 would take many seconds
    with ThreadPoolExecutor(max_workers=WORKERS) as ex:
        def thread_map():
            out = list(ex.map(double, few))
            assert out[-1] == 2 * few[-1]

        report("map 1e5 ThreadPoolExecutor.map", median_seconds(thread_map, rounds), len(few), "item")
    with ProcessPoolExecutor(max_workers=WORKERS) as ex:
        def process_map():
            out = list(ex.map(double, items, chunksize=8192))
            assert out[-1] == 2 * items[-1]

        report("map 1e6 ProcessPoolExecutor chunks", median_seconds(process_map, rounds), len(items), "item")


def bench_gil(n, rounds):
    def sequential():
        for _ in range(2):
            cpu_bound_task(n)

    def with_executor(cls):
        def run():
            with cls(max_workers=2) as ex:
                [f.result() for f in [ex.submit(cpu_bound_task, n) for _ in range(2)]]
        return run

    seq = median_seconds(sequential, rounds)
    thr = median_seconds(with_executor(ThreadPoolExecutor), rounds)
    proc = median_seconds(with_executor(ProcessPoolExecutor), rounds)
    print(f"gil: 2 x cpu_bound_task({n}) sequential {seq:.3f}s, "
          f"ThreadPoolExecutor(2) {thr:.3f}s ({seq / thr:.2f}x), "
          f"ProcessPoolExecutor(2) {proc:.3f}s ({seq / proc:.2f}x)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per case (median reported)")
    parser.add_argument("--gil-n", type=int, default=10**7, help="size of the seed's cpu_bound_task (default: the seed's 10**7)")
    args = parser.parse_args()
    if args.rounds < 1 or args.gil_n < 1:
        parser.error("--rounds and --gil-n must be positive")
    print(f"Python {'.'.join(map(str, sys.version_info[:3]))}, {WORKERS} workers, median of {args.rounds} rounds")
    bench_tiny(args.rounds)
    bench_cpu(args.rounds)
    bench_map(args.rounds)
    bench_gil(args.gil_n, args.rounds)


if __name__ == "__main__":
    main()
