package bench

import (
	"context"
	"fmt"
	"testing"

	"github.com/skein-go/skein/ipc"
	"github.com/skein-go/skein/proc"
)

// BenchmarkIPCQueue passes b.N messages of 64 B and of 64 KiB ([]byte)
// through an ipc.Queue from this process to one worker process, which
// gets them all; msgs/s and MB/s count the messages the worker received.
// The worker is started and has attached the queue (one message went
// through) before the clock starts; the clock stops when it has returned
// how many bytes it got, which is checked.
//
// Compare with bench/python/ipc_queue.py (multiprocessing.Queue, the same
// messages, the same clock).
// Reproduce: cd bench && go test -run '^$' -bench IPCQueue -count=5 .
// and python3 python/ipc_queue.py
func BenchmarkIPCQueue(b *testing.B) {
	for _, size := range []int{64, 64 << 10} {
		b.Run(fmt.Sprintf("%s/processes", ipcSizeName(size)), func(b *testing.B) {
			q, err := ipc.NewQueue[[]byte](ipc.WithBufferSize(4 << 20))
			if err != nil {
				b.Fatal(err)
			}
			defer q.Release()
			ctx := context.Background()
			msg := make([]byte, size)
			w, err := proc.Start(ctx, ipcQueueDrain, ipcQueueDrainArgs{Q: q, N: b.N + 1})
			if err != nil {
				b.Fatal(err)
			}
			defer w.Kill()
			if err := q.Put(ctx, msg); err != nil {
				b.Fatal(err)
			}
			for q.Len() > 0 { // the worker has attached the queue and is getting
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := q.Put(ctx, msg); err != nil {
					b.Fatal(err)
				}
			}
			got, err := w.Wait(ctx)
			b.StopTimer()
			if err != nil || got != (b.N+1)*size {
				b.Fatalf("worker received %d bytes (%v), want %d", got, err, (b.N+1)*size)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

type ipcQueueDrainArgs struct {
	Q *ipc.Queue[[]byte]
	N int
}

// ipcQueueDrain gets N messages and returns how many bytes they held.
var ipcQueueDrain = proc.Register("bench.ipc-queue.drain", func(ctx context.Context, a ipcQueueDrainArgs) (int, error) {
	total := 0
	for range a.N {
		v, err := a.Q.Get(ctx)
		if err != nil {
			return total, err
		}
		total += len(v)
	}
	return total, nil
})

func ipcSizeName(size int) string {
	if size >= 1<<10 {
		return fmt.Sprintf("%dKiB", size>>10)
	}
	return fmt.Sprintf("%dB", size)
}
