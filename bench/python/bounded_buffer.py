"""The seed's BoundedBuffer on the work of BenchmarkQueue (bench/queue_test.go).

One producer thread puts integers into a BoundedBuffer of capacity 1024 and
one consumer thread takes them; items per second are printed per round and
as the median of the rounds.

The seed's class cannot run as written: it gives each Condition its own
Lock, so put() calls not_empty.notify() without holding not_empty's lock
and Python raises "RuntimeError: cannot notify on un-acquired lock" on the
first put (see --as-written). The fix used here is the textbook one: both
Conditions share one Lock that guards the buffer.

Usage: python3 bench/python/bounded_buffer.py [--rounds 5] [--items 200000] [--capacity 1024] [--as-written]
"""

import argparse
import statistics
import threading
import time
from collections import deque


class BoundedBuffer:
    """Producer-consumer pattern using Condition variables (the seed's, fixed)."""

    def __init__(self, capacity: int):
        self.buffer = deque()
        self.capacity = capacity
        lock = threading.Lock()  # the fix: one lock for the buffer, shared
        self.not_full = threading.Condition(lock)
        self.not_empty = threading.Condition(lock)

    def put(self, item):
        with self.not_full:
            while len(self.buffer) >= self.capacity:
                self.not_full.wait()

            self.buffer.append(item)
            self.not_empty.notify()

    def get(self):
        with self.not_empty:
            while len(self.buffer) == 0:
                self.not_empty.wait()

            item = self.buffer.popleft()
            self.not_full.notify()
            return item


class SeedBoundedBuffer(BoundedBuffer):
    """The seed's BoundedBuffer exactly as written: one Lock per Condition."""

    def __init__(self, capacity: int):
        super().__init__(capacity)
        self.not_full = threading.Condition(threading.Lock())
        self.not_empty = threading.Condition(threading.Lock())


def run(items: int, capacity: int) -> float:
    buf = BoundedBuffer(capacity)
    total = 0

    def consumer():
        nonlocal total
        get = buf.get
        s = 0
        for _ in range(items):
            s += get()
        total = s

    t = threading.Thread(target=consumer)
    start = time.perf_counter()
    t.start()
    put = buf.put
    for i in range(items):
        put(i)
    t.join()
    elapsed = time.perf_counter() - start
    if total != items * (items - 1) // 2:
        raise SystemExit(f"consumer summed {total}, want {items * (items - 1) // 2}")
    return items / elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--capacity", type=int, default=1024)
    parser.add_argument("--as-written", action="store_true",
                        help="show the seed's class failing on its first put, then exit")
    args = parser.parse_args()
    if args.as_written:
        try:
            SeedBoundedBuffer(args.capacity).put(1)
        except RuntimeError as e:
            print(f"the seed's BoundedBuffer, as written, fails on its first put: RuntimeError: {e}")
            return
        raise SystemExit("the seed's BoundedBuffer did not fail: expected RuntimeError")
    rates = []
    for r in range(args.rounds):
        rate = run(args.items, args.capacity)
        rates.append(rate)
        print(f"round {r + 1}: {rate / 1e6:.3f} M items/s")
    print(f"median (1 producer, 1 consumer, capacity {args.capacity}): "
          f"{statistics.median(rates) / 1e6:.3f} M items/s ({1e9 / statistics.median(rates):.0f} ns/item)")


if __name__ == "__main__":
    main()
