package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Headers of task and result messages. Everything else travels in the
// payload, as internal/wire encodes it.
const (
	hdrMsgID    = "Nats-Msg-Id"    // the task's ID: JetStream de-duplicates on it
	hdrReply    = "Skein-Reply"    // the subject of the submitter's results
	hdrSig      = "Skein-Sig"      // "name(In) Out": the worker checks its own
	hdrMax      = "Skein-Max"      // max deliveries
	hdrBeat     = "Skein-Beat"     // heartbeat interval, nanoseconds
	hdrDead     = "Skein-Dead"     // on a result: the task was given up after this many deliveries
	hdrDeadWhy  = "Skein-Dead-Why" // on a dead-letter result: "unknown" or "mismatch", and the text
	hdrRun      = "Skein-Run"      // on a result: how long its tasks ran, "ID:µs,..."
	hdrProgress = "Skein-Progress" // on a result: its tasks' last progress, "ID:total:done:failed,..."
)

// names are the streams and subjects of one prefix.
type names struct {
	tasks, results   string // stream names
	taskSubj         string
	resultSubj       string // + "." + executor ID
	cancelSubj       string // core NATS: cancellations, to every worker
	progressSubj     string // core NATS: + "." + executor ID
	workers          string // the durable consumer of the tasks stream
	dictBucketPrefix string
	lockBucket       string
}

func namesFor(prefix string) names {
	return names{
		tasks:            prefix + "_tasks",
		results:          prefix + "_results",
		taskSubj:         prefix + ".task",
		resultSubj:       prefix + ".result",
		cancelSubj:       prefix + ".cancel",
		progressSubj:     prefix + ".progress",
		workers:          "workers",
		dictBucketPrefix: prefix + "_dict_",
		lockBucket:       prefix + "_locks",
	}
}

// connect dials url with the configured credentials. The connection
// reconnects forever: a restarted server or a cluster member taking over
// must not end the executor or the worker.
func connect(cfg *config, url, defaultName string) (*nats.Conn, error) {
	name := cfg.name
	if name == "" {
		name = defaultName
	}
	opts := append([]nats.Option{
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(100 * time.Millisecond),
		nats.ReconnectJitter(50*time.Millisecond, 50*time.Millisecond),
		nats.ReconnectBufSize(64 << 20),
		nats.PingInterval(5 * time.Second),
	}, cfg.conn...)
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, fmt.Errorf("cluster: connect to %s: %w", url, err)
	}
	return nc, nil
}

func (n names) taskStream(replicas int) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        n.tasks,
		Subjects:    []string{n.taskSubj},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Duplicates:  defaultDupWindow,
		Replicas:    replicas,
		Description: "skein tasks waiting for a worker",
	}
}

func (n names) resultStream(replicas int) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        n.results,
		Subjects:    []string{n.resultSubj + ".>"},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Duplicates:  defaultDupWindow,
		MaxAge:      defaultResultsMaxAge,
		Replicas:    replicas,
		Description: "skein results waiting for their submitter",
	}
}

func (n names) workerConsumer(ackWait time.Duration) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       n.workers,
		Description:   "skein workers pull tasks here",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       ackWait,
		MaxDeliver:    -1, // workers give a task up themselves (see hdrMax), so that it is never stuck
		MaxAckPending: 1 << 16,
	}
}

// setup creates (New: or updates) the streams and the workers' consumer,
// retrying while the JetStream cluster is electing its leaders.
func setup(ctx context.Context, js jetstream.JetStream, n names, cfg *config, update bool) (c jetstream.Consumer, err error) {
	err = retry(ctx, func(ctx context.Context) error {
		c, err = setupOnce(ctx, js, n, cfg, update)
		return err
	})
	return c, err
}

// retry runs fn with a short deadline per attempt, again while it fails
// for want of an answer (a server starting, a cluster electing a leader),
// for up to 30 seconds or until ctx ends.
func retry(ctx context.Context, fn func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		actx, acancel := context.WithTimeout(ctx, 2*time.Second)
		err := fn(actx)
		acancel()
		if err == nil || ctx.Err() != nil || !transient(err) {
			return err
		}
	}
}

// transient reports whether err means "no answer yet" rather than "no".
func transient(err error) bool {
	var api *jetstream.APIError
	if errors.As(err, &api) {
		return api.Code == 503 || api.Code == 408
	}
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrJetStreamNotEnabled)
}

// setupOnce does setup's work once. A worker creates what is missing and
// changes nothing that exists.
func setupOnce(ctx context.Context, js jetstream.JetStream, n names, cfg *config, update bool) (jetstream.Consumer, error) {
	replicas := max(cfg.replicas, 1)
	for _, sc := range []jetstream.StreamConfig{n.taskStream(replicas), n.resultStream(replicas)} {
		var err error
		if update {
			_, err = js.CreateOrUpdateStream(ctx, sc)
		} else if _, err = js.CreateStream(ctx, sc); errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			err = nil
		}
		if err != nil {
			return nil, fmt.Errorf("cluster: set up stream %s: %w", sc.Name, err)
		}
	}
	cc := n.workerConsumer(cfg.ackWait)
	if update {
		c, err := js.CreateOrUpdateConsumer(ctx, n.tasks, cc)
		if err != nil {
			return nil, fmt.Errorf("cluster: set up consumer: %w", err)
		}
		return c, nil
	}
	c, err := js.CreateConsumer(ctx, n.tasks, cc)
	if errors.Is(err, jetstream.ErrConsumerExists) {
		c, err = js.Consumer(ctx, n.tasks, n.workers)
	}
	if err != nil {
		return nil, fmt.Errorf("cluster: set up consumer: %w", err)
	}
	return c, nil
}

func atoiHeader(h nats.Header, key string) int64 {
	v, ok := h[key]
	if !ok || len(v) == 0 {
		return 0
	}
	n, _ := strconv.ParseInt(v[0], 10, 64)
	return n
}

func header(h nats.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}
