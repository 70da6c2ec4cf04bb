package progress

import (
	"context"
	"testing"
)

func TestContextCarriesReporter(t *testing.T) {
	ctx := context.Background()
	if Reporting(ctx) {
		t.Fatal("a bare context reports progress")
	}
	FromContext(ctx).Add(1) // must not panic: a no-op

	tr, err := New()
	if err != nil {
		t.Fatal(err)
	}
	task, err := tr.Task("files", 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx = NewContext(ctx, task)
	if !Reporting(ctx) {
		t.Fatal("Reporting = false with a task attached")
	}
	rep := FromContext(ctx)
	rep.AddTotal(3)
	rep.Add(2)
	rep.AddFailed(1)
	u := task.Update()
	if u.Total != 3 || u.Done != 2 || u.Failed != 1 {
		t.Fatalf("task after reports = %+v, want total 3, done 2, failed 1", u)
	}

	ctx = NewContext(ctx, nil)
	if Reporting(ctx) {
		t.Fatal("NewContext(ctx, nil) still reports")
	}
	FromContext(ctx).Add(5)
	if got := task.Update().Done; got != 2 {
		t.Fatalf("a removed reporter still counted: done = %d", got)
	}
}
