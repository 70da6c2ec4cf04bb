"""Python's multiprocessing.Queue on the work of BenchmarkIPCQueue (bench/ipc_queue_test.go).

The parent puts N messages of SIZE bytes (a bytes object) into a
multiprocessing.Queue; a consumer process gets them all. The clock starts
once the consumer is running (it reports ready through an Event) and
stops when it has received the last message. Each round prints messages
per second and MB/s; the medians are printed last, per size.

Usage: python3 bench/python/ipc_queue.py [--rounds 5] [--n64 200000] [--n64k 5000]
"""

import argparse
import multiprocessing as mp
import statistics
import time


def consumer(q, n, ready, done):
    ready.set()
    total = 0
    for _ in range(n):
        total += len(q.get())
    done.put(total)


def run(size: int, n: int) -> float:
    """Seconds to pass n messages of size bytes from this process to another."""
    q = mp.Queue()
    done = mp.Queue()
    ready = mp.Event()
    p = mp.Process(target=consumer, args=(q, n, ready, done))
    p.start()
    ready.wait()
    msg = b"x" * size
    start = time.perf_counter()
    for _ in range(n):
        q.put(msg)
    total = done.get()
    elapsed = time.perf_counter() - start
    p.join()
    if total != n * size:
        raise SystemExit(f"consumer got {total} bytes, want {n * size}")
    return elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--n64", type=int, default=200000)
    ap.add_argument("--n64k", type=int, default=5000)
    args = ap.parse_args()
    for size, n in ((64, args.n64), (64 << 10, args.n64k)):
        rates = []
        for r in range(args.rounds):
            secs = run(size, n)
            rates.append(n / secs)
            print(f"{size}B round {r + 1}: {n / secs:,.0f} msgs/s  {n * size / secs / 1e6:,.1f} MB/s")
        med = statistics.median(rates)
        print(f"{size}B median: {med:,.0f} msgs/s  {med * size / 1e6:,.1f} MB/s")


if __name__ == "__main__":
    main()
