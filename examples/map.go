package examples

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/skein-go/skein/proc"
)

func init() {
	register(Demo{
		Name:    "map",
		Summary: "the seed's Pool.map over chunks with a bound multiplier, on a proc.Pool of 4 worker processes",
		Run:     mapDemo,
	})
}

// mapTask is one call of the seed's worker_function(data_chunk,
// multiplier). Python binds the multiplier with functools.partial and
// pickles the bound function; in skein only data crosses the process
// boundary, never code, so the bound argument travels in the input.
type mapTask struct {
	Chunk      []int
	Multiplier int
}

// mapResult is what worker_function returns: the worker's pid and the
// multiplied chunk.
type mapResult struct {
	Pid    int
	Values []int
}

// mapWorker is worker_function, registered for worker processes.
var mapWorker = proc.Register("map.worker", func(_ context.Context, t mapTask) (mapResult, error) {
	out := make([]int, len(t.Chunk))
	for i, x := range t.Chunk {
		out[i] = x * t.Multiplier
	}
	return mapResult{Pid: os.Getpid(), Values: out}, nil
})

// mapPartial binds the multiplier to every chunk, as
// partial(worker_function, multiplier=m) does.
func mapPartial(chunks [][]int, multiplier int) []mapTask {
	tasks := make([]mapTask, len(chunks))
	for i, c := range chunks {
		tasks[i] = mapTask{Chunk: c, Multiplier: multiplier}
	}
	return tasks
}

func mapDemo(ctx context.Context, w io.Writer) (string, error) {
	const (
		workers    = 4
		chunkSize  = 5
		multiplier = 2
	)
	data := make([]int, 20) // list(range(20))
	for i := range data {
		data[i] = i
	}
	chunks := slices.Collect(slices.Chunk(data, chunkSize))

	// One task in flight per worker: each idle worker takes the next
	// chunk, so the four chunks spread over the four processes as they
	// do in Python (the default keeps several tasks queued per worker,
	// which suits many small tasks better).
	p, err := proc.New(workers, proc.WithInflight(1))
	if err != nil {
		return "", err
	}
	defer p.Close()

	// WithChunkSize(1): each of our chunks is one task. Pool.map would
	// cut the input into chunks itself; here the chunks are the input, as
	// in the seed.
	results, err := proc.MapSlice(ctx, p, mapWorker, mapPartial(chunks, multiplier), proc.WithChunkSize(1))
	if err != nil {
		return "", err
	}

	if len(results) != len(chunks) {
		return "", fmt.Errorf("%d results for %d chunks", len(results), len(chunks))
	}
	pids := map[int]bool{}
	for i, r := range results {
		fmt.Fprintf(w, "PID %d: %v\n", r.Pid, r.Values)
		want := make([]int, len(chunks[i]))
		for j, x := range chunks[i] {
			want[j] = x * multiplier
		}
		if !slices.Equal(r.Values, want) {
			return "", fmt.Errorf("chunk %d: got %v, want %v", i, r.Values, want)
		}
		if r.Pid == os.Getpid() {
			return "", fmt.Errorf("chunk %d ran in the parent process, not a worker", i)
		}
		pids[r.Pid] = true
	}
	// Which worker takes which chunk is the scheduler's business: with
	// four chunks of tiny work, one worker may well finish its chunk and
	// take the next before another has been handed one. That is not an
	// error; a wrong value is.
	if len(pids) == 1 {
		fmt.Fprintln(w, "(every chunk ran on the same worker this time: the work is tiny)")
	}
	return fmt.Sprintf("%d chunks of %d multiplied by %d and verified, on %d of %d worker processes",
		len(chunks), chunkSize, multiplier, len(pids), workers), nil
}
