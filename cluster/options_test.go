package cluster

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/skein-go/skein/proc"
)

func TestNewRejectsBadOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  Option
		want string
	}{
		{"nil", nil, "nil option"},
		{"empty URL", WithURL(""), "empty URL"},
		{"empty data dir", WithDataDir(""), "empty directory"},
		{"bad prefix", WithPrefix("a b"), "WithPrefix"},
		{"short ack wait", WithAckWait(time.Millisecond), "at least 100ms"},
		{"zero heartbeat", WithHeartbeat(0), "must be positive"},
		{"heartbeat over ack wait", WithHeartbeat(time.Minute), "shorter than the ack wait"},
		{"zero deliveries", WithMaxDeliveries(0), "at least 1"},
		{"zero timeout", WithTimeout(0), "must be positive"},
		{"negative local workers", WithLocalWorkers(-1), "must not be negative"},
		{"two replicas", WithReplicas(2), "1, 3 or 5"},
		{"worker option", WithConcurrency(2), "does not apply to New"},
		{"worker grace", WithStopGrace(time.Second), "does not apply to New"},
		{"empty user", WithUserPassword("", "x"), "empty user"},
		{"empty token", WithToken(""), "empty token"},
		{"empty creds", WithCredsFile(""), "empty path"},
		{"missing nkey", WithNKeyFile("/no/such/seed"), "WithNKeyFile"},
		{"nil TLS", WithTLS(nil), "WithTLS(nil)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(context.Background(), tc.opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	if _, err := New(context.Background(), WithURL("nats://127.0.0.1:1"), WithDataDir(t.TempDir())); err == nil {
		t.Fatal("WithDataDir with WithURL was accepted")
	}
}

func TestServeRejectsExecutorOptionsAndBadURLs(t *testing.T) {
	ctx := testCtx(t)
	if err := Serve(ctx, "nats://127.0.0.1:1", WithTimeout(time.Second)); err == nil || !strings.Contains(err.Error(), "does not apply to Serve") {
		t.Fatalf("error %v", err)
	}
	if err := Serve(ctx, "nats://127.0.0.1:1", WithConcurrency(0)); err == nil {
		t.Fatal("WithConcurrency(0) accepted")
	}
	if err := Serve(ctx, "nats://127.0.0.1:1"); err == nil || !strings.Contains(err.Error(), "connect") {
		t.Fatalf("no server: %v", err)
	}
}

func TestStartServerRejectsBadOptions(t *testing.T) {
	for _, opt := range []ServerOption{
		nil, ServerDataDir(""), ServerListen("nonsense"), ServerName(""), ServerCluster("", "127.0.0.1:0"),
		ServerCluster("c", "bad"), ServerAuth("", ""), ServerMaxPayload(10), ServerConfigFile("/no/such/file"),
	} {
		if s, err := StartServer(opt); err == nil {
			s.Close()
			t.Errorf("option %p accepted", opt)
		}
	}
}

func TestCredentialsArePassedThrough(t *testing.T) {
	ctx := testCtx(t)
	srv, err := StartServer(ServerDataDir(t.TempDir()), ServerAuth("skein", "s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if _, err := New(ctx, WithURL(srv.URL())); err == nil || !strings.Contains(err.Error(), "uthorization") {
		t.Fatalf("without credentials: %v", err)
	}
	e, err := New(ctx, WithURL(srv.URL()), WithUserPassword("skein", "s3cret"), WithLocalWorkers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if v, err := Submit(ctx, e, square, 9).Wait(ctx); err != nil || v != 81 {
		t.Fatalf("%v %v", v, err)
	}
}

// notRegistered lost its name to square: using it is an error.
var notRegistered = proc.Register("cluster.test.square", func(_ context.Context, s string) (string, error) { return s, nil })

func TestSubmitAndMapRejectBadArguments(t *testing.T) {
	ctx := testCtx(t)
	e := newTestExecutor(t)
	if _, err := Submit(ctx, nil, square, 1).Wait(ctx); err == nil {
		t.Error("nil executor accepted")
	}
	if _, err := Submit[int, int](ctx, e, nil, 1).Wait(ctx); err == nil {
		t.Error("nil Func accepted")
	}
	if _, err := Submit(ctx, e, notRegistered, "x").Wait(ctx); err == nil || !strings.Contains(err.Error(), "name already registered") {
		t.Errorf("failed registration: %v", err)
	}
	if _, err := MapSlice(ctx, nil, square, []int{1}); err == nil {
		t.Error("MapSlice on nil executor accepted")
	}
	if _, err := MapSlice(ctx, e, square, []int{1}, WithChunkSize(0)); err == nil {
		t.Error("WithChunkSize(0) accepted")
	}
	if _, err := MapSlice(ctx, e, square, []int{1}, WithWindow(0)); err == nil {
		t.Error("WithWindow(0) accepted")
	}
	if _, err := MapSlice(ctx, e, square, []int{1}, nil); err == nil {
		t.Error("nil MapOption accepted")
	}
	for r := range Map(ctx, e, square, nil) {
		if r.Index != -1 || r.Err == nil {
			t.Errorf("nil input: %+v", r)
		}
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Submit(done, e, square, 1).Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("ended ctx: %v", err)
	}
}
