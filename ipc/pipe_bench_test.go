package ipc

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkPipeBulk sends b.N messages from one goroutine to another
// through a pipe in this process: the cost of the code path and the
// socket, without a second process.
func BenchmarkPipeBulk(b *testing.B) {
	for _, size := range []int{64, 64 << 10} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			a, c := newTestPipe[[]byte](b)
			ctx := context.Background()
			msg := make([]byte, size)
			done := make(chan int)
			go func() {
				total := 0
				for range b.N {
					m, err := c.Recv(ctx)
					if err != nil {
						break
					}
					total += len(m)
				}
				done <- total
			}()
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for range b.N {
				if err := a.Send(ctx, msg); err != nil {
					b.Fatal(err)
				}
			}
			if got := <-done; got != b.N*size {
				b.Fatalf("received %d bytes", got)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
