"""Python's multiprocessing.Pipe on the work of BenchmarkIPCPipe (bench/ipc_pipe_test.go).

  roundtrip   the parent sends 64 bytes and receives the echo of a child
              process, N times: round trips per second
  bulk 64B    the parent sends N messages of 64 bytes that a child
  bulk 64KiB  receives (and counts) until EOFError: messages per second
              and MB/s, the clock stopping when the child has reported
              the bytes it got

Messages are bytes objects sent with Connection.send (pickled, as the
seed's dicts are). Every round starts a fresh child and warms it up with
one message before the clock starts; medians are printed last.

Usage: python3 bench/python/ipc_pipe.py [--rounds 5] [--n 20000] [--n64 200000] [--n64k 5000]
"""

import argparse
import multiprocessing as mp
import statistics
import time


def echo(conn, parents):
    parents.close()  # the fork's copy of the parent's end: keep it and EOF never comes
    while True:
        try:
            m = conn.recv()
        except EOFError:
            break
        conn.send(m)
    conn.close()


def sink(conn, parents, report):
    parents.close()
    m = conn.recv()
    conn.send(m[:0])
    total = len(m)
    while True:
        try:
            total += len(conn.recv())
        except EOFError:
            break
    report.send(total)


def roundtrip(n: int) -> float:
    mine, theirs = mp.Pipe()
    p = mp.Process(target=echo, args=(theirs, mine))
    p.start()
    theirs.close()
    msg = b"x" * 64
    mine.send(msg)
    mine.recv()
    start = time.perf_counter()
    for _ in range(n):
        mine.send(msg)
        mine.recv()
    elapsed = time.perf_counter() - start
    mine.close()
    p.join()
    return n / elapsed


def bulk(size: int, n: int) -> float:
    mine, theirs = mp.Pipe()
    report_r, report_w = mp.Pipe(duplex=False)
    p = mp.Process(target=sink, args=(theirs, mine, report_w))
    p.start()
    theirs.close()
    report_w.close()
    msg = b"x" * size
    mine.send(msg)
    mine.recv()
    start = time.perf_counter()
    for _ in range(n):
        mine.send(msg)
    mine.close()
    total = report_r.recv()
    elapsed = time.perf_counter() - start
    p.join()
    if total != (n + 1) * size:
        raise SystemExit(f"sink got {total} bytes, want {(n + 1) * size}")
    return n / elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--n64", type=int, default=200000)
    ap.add_argument("--n64k", type=int, default=5000)
    args = ap.parse_args()
    rows = [
        ("roundtrip", "roundtrips/s", 0, lambda: roundtrip(args.n)),
        ("bulk 64B", "msgs/s", 64, lambda: bulk(64, args.n64)),
        ("bulk 64KiB", "msgs/s", 64 << 10, lambda: bulk(64 << 10, args.n64k)),
    ]
    for name, unit, size, fn in rows:
        rates = []
        for r in range(args.rounds):
            rate = fn()
            rates.append(rate)
            mb = f"  {rate * size / 1e6:,.1f} MB/s" if size else ""
            print(f"{name} round {r + 1}: {rate:,.0f} {unit}{mb}")
        med = statistics.median(rates)
        mb = f"  {med * size / 1e6:,.1f} MB/s" if size else ""
        print(f"{name} median: {med:,.0f} {unit}{mb}")


if __name__ == "__main__":
    main()
