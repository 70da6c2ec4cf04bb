package ipc

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"slices"
	"syscall"
	"testing"

	"github.com/skein-go/skein/proc"
	"github.com/skein-go/skein/shm"
)

// Cross-process queue tests: the queues travel to tasks of this test
// binary, re-executed by proc as worker processes.

// queueRecord is what a consumer forwards: who consumed which item.
type queueRecord struct {
	Consumer int
	Item     queueItem
}

type queueProduceArg struct {
	Q        *Queue[queueItem]
	Acks     *Queue[int] // if not nil, each Seq is put here once its Put returned
	Producer int
	N        int // items to put; 0: until the queue is closed
}

type queueConsumeArg struct {
	In       *Queue[queueItem]
	Out      *Queue[queueRecord]
	Consumer int
}

type queueHoldArg struct {
	Q       *Queue[queueItem]
	Ready   *Queue[int] // gets the worker's pid once it holds the lock
	HalfPut bool        // write half a record beyond the tail, as a Put cut short would
	HalfGet bool        // read the head record without removing it, as a Get cut short would
}

var (
	queueProduce = proc.Register("ipc.test.queue.produce", func(ctx context.Context, a queueProduceArg) (int, error) {
		for i := 0; a.N == 0 || i < a.N; i++ {
			err := a.Q.Put(ctx, queueItem{Producer: a.Producer, Seq: i})
			if errors.Is(err, ErrClosed) {
				return i, nil
			}
			if err != nil {
				return i, err
			}
			if a.Acks != nil {
				if err := a.Acks.Put(ctx, i); err != nil {
					return i, err
				}
			}
		}
		return a.N, nil
	})
	queueConsume = proc.Register("ipc.test.queue.consume", func(ctx context.Context, a queueConsumeArg) (int, error) {
		for n := 0; ; n++ {
			v, err := a.In.Get(ctx)
			if errors.Is(err, ErrClosed) {
				return n, nil
			}
			if err != nil {
				return n, err
			}
			if err := a.Out.Put(ctx, queueRecord{Consumer: a.Consumer, Item: v}); err != nil {
				return n, err
			}
			if err := a.In.TaskDone(); err != nil {
				return n, err
			}
		}
	})
	// queueHold takes the queue's lock the way Put and Get do, leaves the
	// state a Put or Get killed half way would, and waits to be killed.
	queueHold = proc.Register("ipc.test.queue.hold", func(ctx context.Context, a queueHoldArg) (int, error) {
		r := a.Q.r
		mu := r.headMu
		if a.HalfPut {
			mu = r.tailMu
		}
		if err := r.lock(ctx, mu); err != nil {
			return 0, err
		}
		h, t := unpack(r.head.Load()), unpack(r.tail.Load())
		if a.HalfPut {
			var hdr [recordHeader]byte
			binary.LittleEndian.PutUint32(hdr[:], 1000)
			r.write(r.write(t.off, hdr[:]), []byte("half a record"))
		}
		if a.HalfGet {
			var hdr [recordHeader]byte
			r.read(h.off, hdr[:])
		}
		if err := a.Ready.Put(ctx, os.Getpid()); err != nil {
			return 0, err
		}
		<-ctx.Done()
		return 0, ctx.Err()
	})
)

// queueStart starts f(in) in a process of its own, and makes sure the
// process is gone when the test ends.
func queueStart[In any](t *testing.T, f *proc.Func[In, int], in In) *proc.Process[int] {
	t.Helper()
	p, err := proc.Start(context.Background(), f, in, proc.WithStderr(io.Discard))
	if err != nil {
		t.Fatalf("start %s: %v", f.Name(), err)
	}
	t.Cleanup(func() {
		p.Kill()
		p.Wait(context.Background())
	})
	return p
}

func TestQueueAcrossProcessesDeliversEveryItemOnceInOrderPerProducer(t *testing.T) {
	checkNoFDLeak(t)
	ctx := context.Background()
	q := newTestQueue[queueItem](t, WithCapacity(32))
	out := newTestQueue[queueRecord](t)
	const n = 2000
	var producers, consumers []*proc.Process[int]
	for p := range 2 {
		producers = append(producers, queueStart(t, queueProduce, queueProduceArg{Q: q, Producer: p, N: n}))
	}
	for c := range 2 {
		consumers = append(consumers, queueStart(t, queueConsume, queueConsumeArg{In: q, Out: out, Consumer: c}))
	}
	// The parent consumes too, straight from the queue.
	var mine []queueItem
	parent := make(chan error)
	go func() {
		for {
			v, err := q.Get(ctx)
			if errors.Is(err, ErrClosed) {
				parent <- nil
				return
			}
			if err != nil {
				parent <- err
				return
			}
			mine = append(mine, v)
			if err := q.TaskDone(); err != nil {
				parent <- err
				return
			}
		}
	}()
	for _, p := range producers {
		if v, err := p.Wait(ctx); err != nil || v != n {
			t.Fatalf("producer: %v, %v", v, err)
		}
	}
	if err := q.Join(ctx); err != nil {
		t.Fatal(err)
	}
	q.Close()
	if err := <-parent; err != nil {
		t.Fatalf("parent consumer: %v", err)
	}
	total := len(mine)
	for _, c := range consumers {
		v, err := c.Wait(ctx)
		if err != nil {
			t.Fatalf("consumer: %v", err)
		}
		total += v
	}
	if total != 2*n {
		t.Fatalf("consumed %d items, want %d", total, 2*n)
	}
	records := queueDrain(t, out)
	for _, v := range mine {
		records = append(records, queueRecord{Consumer: -1, Item: v})
	}
	queueCheckRecords(t, records, map[int]int{0: n, 1: n}, 0)
}

func TestQueueSurvivesAProducerKilledInsidePut(t *testing.T) {
	queueSurvivesAHolderKilled(t, queueHoldArg{HalfPut: true})
}

func TestQueueSurvivesAConsumerKilledInsideGet(t *testing.T) {
	queueSurvivesAHolderKilled(t, queueHoldArg{HalfGet: true})
}

// queueSurvivesAHolderKilled kills a process that holds the queue's lock
// half way through an operation, then checks that the queue still holds
// exactly what it held, in order, and keeps working.
func queueSurvivesAHolderKilled(t *testing.T, a queueHoldArg) {
	checkNoFDLeak(t)
	ctx := context.Background()
	a.Q = newTestQueue[queueItem](t, WithBufferSize(256))
	a.Ready = newTestQueue[int](t)
	// Fill part of the buffer and take some out, so the records wrap.
	for i := range 10 {
		a.Q.Put(ctx, queueItem{Seq: i})
	}
	for range 8 {
		a.Q.Get(ctx)
	}
	holder := queueStart(t, queueHold, a)
	pid, err := a.Ready.Get(ctx)
	if err != nil || pid != holder.Pid() {
		t.Fatalf("holder reported %d, %v; its pid is %d", pid, err, holder.Pid())
	}
	mu := a.Q.r.headMu
	if a.HalfPut {
		mu = a.Q.r.tailMu
	}
	if err := mu.TryLock(); !errors.Is(err, shm.ErrBusy) {
		t.Fatalf("TryLock while the holder lives: %v, want shm.ErrBusy", err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var we *proc.WorkerError
	if _, err := holder.Wait(ctx); !errors.As(err, &we) {
		t.Fatalf("holder: %v, want a *proc.WorkerError", err)
	}
	for i := 10; i < 20; i++ {
		if err := a.Q.Put(ctx, queueItem{Seq: i}); err != nil {
			t.Fatalf("Put after the holder died: %v", err)
		}
	}
	for want := 8; want < 20; want++ {
		v, err := a.Q.Get(ctx)
		if err != nil || v.Seq != want {
			t.Fatalf("Get = %+v, %v; want seq %d", v, err, want)
		}
	}
	if n := a.Q.Len(); n != 0 {
		t.Fatalf("Len = %d, want 0", n)
	}
}

// TestQueueKillingAProducerAndAConsumerUnderLoadLosesNothingAcknowledged
// kills one producer and one consumer while both run flat out, wherever
// they happen to be (inside Put or Get, holding the lock or not).
// Acknowledged means: a producer's Put returned (it then records the item
// in Acks), or a consumer forwarded the item. Every acknowledged item
// must arrive exactly once; the only item allowed to go missing is the one
// the killed consumer had taken but not forwarded yet.
func TestQueueKillingAProducerAndAConsumerUnderLoadLosesNothingAcknowledged(t *testing.T) {
	checkNoFDLeak(t)
	ctx := context.Background()
	q := newTestQueue[queueItem](t, WithCapacity(16))
	out := newTestQueue[queueRecord](t)
	acks := newTestQueue[int](t)
	const n = 3000
	victimP := queueStart(t, queueProduce, queueProduceArg{Q: q, Acks: acks, Producer: 0})
	steadyP := queueStart(t, queueProduce, queueProduceArg{Q: q, Producer: 1, N: n})
	victimC := queueStart(t, queueConsume, queueConsumeArg{In: q, Out: out, Consumer: 0})
	steadyC := queueStart(t, queueConsume, queueConsumeArg{In: q, Out: out, Consumer: 1})

	var records []queueRecord
	perConsumer := map[int]int{}
	perProducer := map[int]int{}
	// The consumer goes first: while the endless producer lives, items
	// keep coming, so both thresholds are reached whatever the share
	// each consumer gets.
	killedP, killedC, atKill := false, false, 0
	for !killedP {
		r, err := out.Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		records = append(records, r)
		perConsumer[r.Consumer]++
		perProducer[r.Item.Producer]++
		if !killedC && perConsumer[0] >= 300 {
			victimC.Kill()
			killedC, atKill = true, perProducer[0]
		}
		if killedC && perProducer[0] >= atKill+300 {
			victimP.Kill()
			killedP = true
		}
	}
	for _, p := range []*proc.Process[int]{victimP, victimC} {
		var we *proc.WorkerError
		if _, err := p.Wait(ctx); !errors.As(err, &we) {
			t.Fatalf("killed process: %v, want a *proc.WorkerError", err)
		}
	}
	if v, err := steadyP.Wait(ctx); err != nil || v != n {
		t.Fatalf("surviving producer: %v, %v", v, err)
	}
	q.Close()
	if _, err := steadyC.Wait(ctx); err != nil {
		t.Fatalf("surviving consumer: %v", err)
	}
	records = append(records, queueDrain(t, out)...)
	acked := queueDrain(t, acks)
	want := map[int]int{1: n}
	if len(acked) > 0 {
		if !slices.Equal(acked, queueSeq(len(acked))) {
			t.Fatalf("producer 0's acks are not 0..%d in order", len(acked)-1)
		}
		want[0] = len(acked)
	}
	queueCheckRecords(t, records, want, 1)
}

// queueDrain takes every item left in q (whose producers are gone).
func queueDrain[T any](t *testing.T, q *Queue[T]) []T {
	t.Helper()
	var out []T
	for {
		v, err := q.TryGet()
		if errors.Is(err, ErrEmpty) || errors.Is(err, ErrClosed) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
}

// queueCheckRecords checks that no item arrived twice, that each consumer
// saw each producer's items in order, and that of the first acked[p] items
// of each producer p at most lost are missing.
func queueCheckRecords(t *testing.T, records []queueRecord, acked map[int]int, lost int) {
	t.Helper()
	seen := map[queueItem]bool{}
	last := map[[2]int]int{} // consumer, producer → last seq
	for _, r := range records {
		if seen[r.Item] {
			t.Fatalf("item %+v arrived twice", r.Item)
		}
		seen[r.Item] = true
		k := [2]int{r.Consumer, r.Item.Producer}
		if prev, ok := last[k]; ok && r.Item.Seq <= prev {
			t.Fatalf("consumer %d got producer %d's item %d after %d", r.Consumer, r.Item.Producer, r.Item.Seq, prev)
		}
		last[k] = r.Item.Seq
	}
	var missing []queueItem
	for p, n := range acked {
		for i := range n {
			if it := (queueItem{Producer: p, Seq: i}); !seen[it] {
				missing = append(missing, it)
			}
		}
	}
	if len(missing) > lost {
		t.Fatalf("acknowledged items lost: %v (at most %d may be)", missing, lost)
	}
}

func queueSeq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}
