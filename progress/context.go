package progress

import "context"

// reporterKey is the context key of the Reporter a task reports into.
type reporterKey struct{}

// NewContext returns a copy of ctx that carries r, for a task to report
// its progress into through FromContext. Submitting a task with such a
// context makes its progress reach r wherever the task runs: a goroutine
// of a pool sees r itself; a task in a proc worker process (or on a
// cluster worker) sees a stand-in whose counts the executor carries back
// and adds to r in the submitting process.
//
//	t := tracker.Task("resize")
//	f := proc.Submit(progress.NewContext(ctx, t), p, Resize, files)
//
// The executor forwards what the task reports and adds nothing of its
// own: a task that reports nothing moves nothing. To count the tasks
// themselves (one per submitted task, done or failed when it ends), give
// a pool its Reporter with pool.WithProgress.
//
// A nil r removes any Reporter ctx carried.
func NewContext(ctx context.Context, r Reporter) context.Context {
	if r == nil {
		return context.WithValue(ctx, reporterKey{}, Reporter(nop{}))
	}
	return context.WithValue(ctx, reporterKey{}, r)
}

// FromContext returns the Reporter ctx carries, or one that discards
// everything, so a task may always report:
//
//	rep := progress.FromContext(ctx)
//	rep.AddTotal(int64(len(files)))
//	for _, f := range files {
//		...
//		rep.Add(1)
//	}
func FromContext(ctx context.Context) Reporter {
	if r, ok := ctx.Value(reporterKey{}).(Reporter); ok {
		return r
	}
	return nop{}
}

// Reporting reports whether ctx carries a Reporter (one given to
// NewContext, not nil), so that an executor can skip the work of carrying
// counts that nobody reads.
func Reporting(ctx context.Context) bool {
	r, ok := ctx.Value(reporterKey{}).(Reporter)
	if !ok {
		return false
	}
	_, isNop := r.(nop)
	return !isNop
}

// nop is the Reporter of a context without one.
type nop struct{}

func (nop) AddTotal(int64)  {}
func (nop) Add(int64)       {}
func (nop) AddFailed(int64) {}
