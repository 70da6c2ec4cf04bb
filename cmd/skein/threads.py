"""The Python side of `skein bench gc`: what parked threads cost.

skein embeds this file and runs it as

    python3 threads.py --threads 10000

It starts that many threads that each wait on one Event (parked, the way
a Go program parks goroutines on a channel), and prints one JSON object:
the start time per thread, the resident and virtual memory each one adds,
and how long a full gc.collect() takes before and while they are parked.
Linux only (memory is read from /proc/self/status).
"""

import argparse
import gc
import json
import statistics
import threading
import time


def status_bytes(field):
    """A memory figure of this process from /proc/self/status, in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def collect_ms(times=5):
    """The median wall time of a full collection, in milliseconds."""
    samples = []
    for _ in range(times):
        t0 = time.perf_counter()
        gc.collect()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=10_000)
    args = p.parse_args()

    gc.collect()
    idle_ms = collect_ms()
    rss0, virt0 = status_bytes("VmRSS"), status_bytes("VmSize")

    release = threading.Event()
    started = threading.Semaphore(0)

    def parked():
        started.release()
        release.wait()

    threads = [threading.Thread(target=parked) for _ in range(args.threads)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for _ in threads:
        started.acquire()
    start_s = time.perf_counter() - t0

    gc.collect()
    rss1, virt1 = status_bytes("VmRSS"), status_bytes("VmSize")
    parked_ms = collect_ms()

    release.set()
    for t in threads:
        t.join()

    n = args.threads
    print(json.dumps({
        "threads": n,
        "start_us_per_thread": start_s * 1e6 / n,
        "rss_bytes_per_thread": (rss1 - rss0) / n,
        "virtual_bytes_per_thread": (virt1 - virt0) / n,
        "gc_collect_ms_idle": idle_ms,
        "gc_collect_ms_parked": parked_ms,
    }))


if __name__ == "__main__":
    main()
