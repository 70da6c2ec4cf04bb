"""The seed's ConnectionPool on the work of BenchmarkResource (bench/resource_test.go).

Eight threads share a semaphore-guarded ConnectionPool of four connections,
each borrowing and giving back a connection in a loop; loans per second
are printed per round and as the median of the rounds.

The pool is the seed's class unchanged; the work per loan is one increment
of a counter in the borrowed connection, as in the Go benchmark.

Usage: python3 bench/python/connection_pool.py [--rounds 5] [--threads 8] [--size 4] [--loans 40000]
"""

import argparse
import statistics
import threading
import time


class ConnectionPool:
    """Connection pool using Semaphore (the seed's)."""

    def __init__(self, max_connections: int):
        self.semaphore = threading.Semaphore(max_connections)
        self.connections = []
        self._lock = threading.Lock()

    def get_connection(self):
        """Get a connection from the pool."""
        self.semaphore.acquire()

        with self._lock:
            if self.connections:
                return self.connections.pop()
            return self._create_connection()

    def release_connection(self, conn):
        """Return connection to the pool."""
        with self._lock:
            self.connections.append(conn)
        self.semaphore.release()

    def _create_connection(self):
        """Create a new database connection."""
        return {"id": len(self.connections), "active": True, "uses": 0}


def run(threads: int, size: int, loans: int) -> float:
    pool = ConnectionPool(max_connections=size)

    def worker():
        get, release = pool.get_connection, pool.release_connection
        for _ in range(loans):
            conn = get()
            try:
                conn["uses"] += 1
            finally:
                release(conn)

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - start
    uses = sum(c["uses"] for c in pool.connections)
    if uses != threads * loans or len(pool.connections) > size:
        raise SystemExit(f"{uses} uses over {len(pool.connections)} connections, "
                         f"want {threads * loans} over at most {size}")
    return threads * loans / elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--size", type=int, default=4)
    parser.add_argument("--loans", type=int, default=40_000, help="loans per thread")
    args = parser.parse_args()
    rates = []
    for r in range(args.rounds):
        rate = run(args.threads, args.size, args.loans)
        rates.append(rate)
        print(f"round {r + 1}: {rate / 1e6:.3f} M loans/s")
    print(f"median ({args.threads} threads, pool of {args.size}): "
          f"{statistics.median(rates) / 1e6:.3f} M loans/s ({1e9 / statistics.median(rates):.0f} ns/loan)")


if __name__ == "__main__":
    main()
