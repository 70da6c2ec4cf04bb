"""The seed's SafeCounter on the work of the counter demo (examples/counter.go).

Threads increment one Lock-guarded counter; the final value is checked and
increments per second printed, per round and as the median of the rounds.

Usage: python3 bench/python/counter.py [--rounds 5] [--threads 8] [--per-thread 100000]
"""

import argparse
import statistics
import threading
import time


class SafeCounter:
    """Thread-safe counter using Lock (the seed's)."""

    def __init__(self):
        self._value = 0
        self._lock = threading.Lock()

    def increment(self):
        with self._lock:
            self._value += 1

    def get_value(self):
        with self._lock:
            return self._value


def run(threads: int, per_thread: int) -> float:
    counter = SafeCounter()

    def worker():
        inc = counter.increment
        for _ in range(per_thread):
            inc()

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - start
    if counter.get_value() != threads * per_thread:
        raise SystemExit(f"counter = {counter.get_value()}, want {threads * per_thread}")
    return threads * per_thread / elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--per-thread", type=int, default=100_000)
    args = parser.parse_args()
    rates = []
    for r in range(args.rounds):
        rate = run(args.threads, args.per_thread)
        rates.append(rate)
        print(f"round {r + 1}: {rate / 1e6:.3f} M increments/s")
    print(f"median ({args.threads} threads): {statistics.median(rates) / 1e6:.3f} M increments/s "
          f"({1e9 / statistics.median(rates):.0f} ns/increment)")


if __name__ == "__main__":
    main()
