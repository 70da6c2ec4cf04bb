package bench

import (
	"context"
	"io"
	"testing"

	"github.com/skein-go/skein/ipc"
	"github.com/skein-go/skein/proc"
)

// BenchmarkIPCPipe measures an ipc.Pipe between this process and a worker
// process holding the other end:
//
//   - roundtrip: Send a 64-byte message, Recv the worker's echo; round
//     trips/s (Python: conn.send, conn.recv against a process that echoes);
//   - bulk/64B, bulk/64KiB: Send b.N messages that the worker receives
//     and counts; msgs/s and MB/s, the clock stopping when the worker has
//     reported how many bytes it got, which is checked.
//
// Compare with bench/python/ipc_pipe.py (multiprocessing.Pipe, the same
// work and clock).
// Reproduce: cd bench && go test -run '^$' -bench IPCPipe -count=5 .
// and python3 python/ipc_pipe.py
func BenchmarkIPCPipe(b *testing.B) {
	b.Run("roundtrip", func(b *testing.B) {
		mine, w := ipcPipeStart(b, ipcPipeEcho, 0)
		ctx := context.Background()
		msg := make([]byte, 64)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if err := mine.Send(ctx, msg); err != nil {
				b.Fatal(err)
			}
			if _, err := mine.Recv(ctx); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "roundtrips/s")
		mine.Close()
		if n, err := w.Wait(ctx); err != nil || n != (b.N+1)*64 {
			b.Fatalf("echo worker: %d bytes, %v", n, err)
		}
	})
	for _, size := range []int{64, 64 << 10} {
		b.Run("bulk/"+ipcSizeName(size), func(b *testing.B) {
			mine, w := ipcPipeStart(b, ipcPipeSink, size)
			ctx := context.Background()
			msg := make([]byte, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := mine.Send(ctx, msg); err != nil {
					b.Fatal(err)
				}
			}
			mine.Close()
			n, err := w.Wait(ctx)
			b.StopTimer()
			if err != nil || n != (b.N+1)*size {
				b.Fatalf("sink worker: %d bytes, %v; want %d", n, err, (b.N+1)*size)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// ipcPipeStart starts f with one end of a new pipe and returns the other,
// once a first message of size bytes has gone there and back (the worker
// has its end, and both sides are warm).
func ipcPipeStart(b *testing.B, f *proc.Func[*ipc.Conn[[]byte], int], size int) (*ipc.Conn[[]byte], *proc.Process[int]) {
	b.Helper()
	mine, theirs, err := ipc.Pipe[[]byte]()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { mine.Close() })
	ctx := context.Background()
	w, err := proc.Start(ctx, f, theirs)
	theirs.Close() // moved to the worker, or unusable if Start failed
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(w.Kill)
	if err := mine.Send(ctx, make([]byte, max(size, 64))); err != nil {
		b.Fatal(err)
	}
	if _, err := mine.Recv(ctx); err != nil {
		b.Fatal(err)
	}
	return mine, w
}

// ipcPipeEcho sends back every message until EOF and returns the bytes
// it echoed.
var ipcPipeEcho = proc.Register("bench.ipc-pipe.echo", func(ctx context.Context, c *ipc.Conn[[]byte]) (int, error) {
	defer c.Close()
	total := 0
	for {
		m, err := c.Recv(ctx)
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
		total += len(m)
		if err := c.Send(ctx, m); err != nil {
			return total, err
		}
	}
})

// ipcPipeSink echoes the first message (the start signal), then receives
// until EOF and returns the bytes it got.
var ipcPipeSink = proc.Register("bench.ipc-pipe.sink", func(ctx context.Context, c *ipc.Conn[[]byte]) (int, error) {
	defer c.Close()
	m, err := c.Recv(ctx)
	if err != nil {
		return 0, err
	}
	if err := c.Send(ctx, m[:0]); err != nil {
		return 0, err
	}
	total := len(m)
	for {
		m, err := c.Recv(ctx)
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
		total += len(m)
	}
})
