"""The seed's ProgressTracker (Manager().dict() under a Manager lock), updated
from 4 processes; prints updates/s."""
import time
from multiprocessing import Manager, Process

class ProgressTracker:
    def __init__(self):
        self.manager = Manager()
        self.progress = self.manager.dict()
        self.lock = self.manager.Lock()
    def update(self, task_id, progress):
        with self.lock:
            self.progress[task_id] = progress

def work(tracker, task_id, n):
    for i in range(n):
        tracker.update(task_id, (i + 1) / n)

if __name__ == "__main__":
    t = ProgressTracker()
    n, procs = 2000, 4
    start = time.perf_counter()
    ps = [Process(target=work, args=(t, k, n)) for k in range(procs)]
    for p in ps: p.start()
    for p in ps: p.join()
    took = time.perf_counter() - start
    print(f"seed ProgressTracker, {procs} processes: {n*procs/took:,.0f} updates/s")
