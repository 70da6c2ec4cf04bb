"""The seed's BankAccount on the work of BenchmarkLockTransfer (bench/lock_test.go).

The seed's class as written (an RLock per account, transfer locking both
accounts in id() order, then calling withdraw and deposit, which re-lock)
with the balance in integer cents. Threads make transfers between random
accounts in both directions; each round runs for a fixed time and prints
transfers per second; the median of the rounds is printed last.

  single   one thread
  threads  as many threads as CPUs (the GIL lets only one run Python code)

Usage: python3 bench/python/bank.py [--rounds 5] [--seconds 1] [--accounts 64]
"""

import argparse
import os
import random
import statistics
import threading
import time


class BankAccount:
    """Thread-safe bank account with reentrant lock (the seed's, in cents)."""

    def __init__(self, balance: int = 0):
        self._balance = balance
        self._lock = threading.RLock()

    @property
    def balance(self):
        with self._lock:
            return self._balance

    def deposit(self, amount: int):
        with self._lock:
            if amount <= 0:
                raise ValueError("Deposit must be positive")
            self._balance += amount
            return self._balance

    def withdraw(self, amount: int):
        with self._lock:
            if amount <= 0:
                raise ValueError("Withdrawal must be positive")
            if amount > self._balance:
                raise ValueError("Insufficient funds")
            self._balance -= amount
            return self._balance

    def transfer(self, other: "BankAccount", amount: int):
        first, second = (self, other) if id(self) < id(other) else (other, self)
        with first._lock:
            with second._lock:
                self.withdraw(amount)
                other.deposit(amount)


def run(threads: int, seconds: float, n_accounts: int) -> float:
    """Transfers per second with threads threads for about seconds seconds."""
    accounts = [BankAccount(1_000_000) for _ in range(n_accounts)]
    before = sum(a.balance for a in accounts)
    stop = threading.Event()
    counts = [0] * threads

    def worker(slot: int):
        rng = random.Random(slot)
        pick = rng.randrange
        n = 0
        while not stop.is_set():
            for _ in range(1000):
                a, b = accounts[pick(n_accounts)], accounts[pick(n_accounts)]
                try:
                    a.transfer(b, 1 + pick(100))
                except ValueError:
                    pass
            n += 1000
        counts[slot] = n

    workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    time.sleep(seconds)  # the measuring window, not a wait for an event
    stop.set()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - start
    if sum(a.balance for a in accounts) != before:
        raise SystemExit("money not conserved")
    return sum(counts) / elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--accounts", type=int, default=64)
    args = parser.parse_args()
    cpus = os.cpu_count() or 1
    for name, threads in (("single", 1), ("threads", cpus)):
        rates = []
        for r in range(args.rounds):
            rate = run(threads, args.seconds, args.accounts)
            rates.append(rate)
            print(f"{name:8s} round {r + 1}: {rate / 1e6:.3f} M transfers/s")
        print(f"{name:8s} median ({threads} thread{'s' if threads > 1 else ''}): "
              f"{statistics.median(rates) / 1e6:.3f} M transfers/s")


if __name__ == "__main__":
    main()
