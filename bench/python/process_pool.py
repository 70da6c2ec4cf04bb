"""Python's process pools on the work skein's proc benchmarks measure.

Run: python3 bench/python/process_pool.py [--quick]

Prints one line per measurement, in the units the Go benchmarks report
(BenchmarkProc... in bench/proc_test.go):

  submit      ProcessPoolExecutor(2): submit+result of tiny tasks, many in
              flight (tasks/s, us/task)
  map         multiprocessing.Pool(2).map over 1e6 tiny tasks in chunks
              (tasks/s, tasks/s per worker, us/task)
  start       pool creation to first result, fork and spawn (ms)
  replace     multiprocessing.Pool(2): SIGKILL an idle worker until its
              replacement is alive (ms); ProcessPoolExecutor cannot do
              this: it breaks (BrokenProcessPool)
"""

import multiprocessing as mp
import os
import signal
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor


def square(x):
    return x * x


def getpid(_):
    return os.getpid()


def bench_submit(n, rounds):
    rates = []
    with ProcessPoolExecutor(max_workers=2) as ex:
        ex.submit(square, 1).result()  # warm up: workers started
        for _ in range(rounds):
            t0 = time.perf_counter()
            fs = [ex.submit(square, i) for i in range(n)]
            for f in fs:
                f.result()
            rates.append(n / (time.perf_counter() - t0))
    r = statistics.median(rates)
    print(f"submit  ProcessPoolExecutor(2) n={n}: {r:,.0f} tasks/s  {1e6 / r:.2f} us/task")


def bench_map(n, chunk, rounds):
    rates = []
    with mp.get_context("fork").Pool(2) as pool:
        pool.map(square, range(100))
        for _ in range(rounds):
            t0 = time.perf_counter()
            out = pool.map(square, range(n), chunksize=chunk)
            rates.append(n / (time.perf_counter() - t0))
            assert out[-1] == (n - 1) ** 2
    r = statistics.median(rates)
    print(f"map     Pool(2).map n={n} chunksize={chunk}: {r:,.0f} tasks/s  {r / 2:,.0f} tasks/s/worker  {1e6 / r:.3f} us/task")


def bench_start(method, rounds):
    times = []
    ctx = mp.get_context(method)
    for _ in range(rounds):
        t0 = time.perf_counter()
        with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as ex:
            ex.submit(square, 3).result()
            times.append(time.perf_counter() - t0)
    print(f"start   ProcessPoolExecutor(2, {method}) to first result: {statistics.median(times) * 1e3:.1f} ms")


def replace_once():
    """One SIGKILL-to-replacement measurement, in a process of its own:
    after a kill the pool may hang (a worker killed while it holds the task
    queue's lock, a known CPython issue), and forking new pools next to its
    stuck threads is unsafe, so each measurement gets a fresh interpreter
    that ends with os._exit."""
    pool = mp.get_context("fork").Pool(2)
    pool.map(getpid, range(8), chunksize=1)
    pids = {p.pid for p in pool._pool}
    victim = next(iter(pids))
    t0 = time.perf_counter()
    os.kill(victim, signal.SIGKILL)
    # The pool's maintenance thread polls for dead workers (every 0.1 s)
    # and forks a replacement: measure until it is alive.
    while not any(p.pid not in pids and p.is_alive() for p in list(pool._pool)):
        time.sleep(0.0002)
    elapsed = time.perf_counter() - t0
    for p in list(pool._pool):
        p.kill()
    print(elapsed, flush=True)
    os._exit(0)


def bench_replace(rounds):
    times = []
    for _ in range(rounds):
        out = subprocess.run([sys.executable, __file__, "--replace-once"], capture_output=True, text=True, timeout=60)
        times.append(float(out.stdout))
    print(f"replace Pool(2) SIGKILL to a new worker alive: {statistics.median(times) * 1e3:.1f} ms")


def main():
    quick = "--quick" in sys.argv
    rounds = 1 if quick else 5
    bench_submit(2_000 if quick else 20_000, rounds)
    bench_map(100_000 if quick else 1_000_000, 1_000, rounds)
    bench_start("fork", rounds)
    bench_start("spawn", rounds)
    bench_replace(rounds)


if __name__ == "__main__":
    if "--replace-once" in sys.argv:
        replace_once()
    main()
