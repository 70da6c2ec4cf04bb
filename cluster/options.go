package cluster

import (
	"crypto/tls"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/nats-io/nats.go"
)

// Defaults of the options.
const (
	defaultPrefix        = "skein"
	defaultAckWait       = 30 * time.Second
	defaultMaxDeliveries = 5
	defaultGrace         = time.Second
	defaultResultsMaxAge = 24 * time.Hour
	defaultDupWindow     = 2 * time.Minute
	nakDelay             = 50 * time.Millisecond
)

// Option configures an executor (New) or a worker (Serve). Options about
// the connection (credentials, TLS, prefix) apply to both; the others
// apply to one side, and giving one to the other side is an error.
type Option interface {
	apply(*config) error
}

// Which side an option is for.
const (
	forBoth = iota
	forExecutor
	forWorker
)

// config is the configuration after options.
type config struct {
	url     string
	dataDir string
	prefix  string
	conn    []nats.Option // credentials, TLS
	name    string        // connection name, shown by the server

	ackWait       time.Duration
	heartbeat     time.Duration // 0: ackWait / 3
	maxDeliveries int
	timeout       time.Duration
	localWorkers  int
	replicas      int

	concurrency int
	grace       time.Duration

	given []given // options given, to check that they apply to the side
}

type given struct {
	name string
	side int
}

func defaultConfig() config {
	return config{
		prefix:        defaultPrefix,
		ackWait:       defaultAckWait,
		maxDeliveries: defaultMaxDeliveries,
		grace:         defaultGrace,
	}
}

// apply applies opts and checks that each is meant for side.
func (c *config) apply(side int, opts []Option) error {
	for _, o := range opts {
		if o == nil {
			return errors.New("cluster: nil option")
		}
		if err := o.apply(c); err != nil {
			return err
		}
	}
	for _, g := range c.given {
		if g.side != forBoth && g.side != side {
			what := "New"
			if side == forWorker {
				what = "Serve"
			}
			return fmt.Errorf("cluster: %s does not apply to %s", g.name, what)
		}
	}
	if c.heartbeat == 0 {
		c.heartbeat = c.ackWait / 3
	}
	if c.heartbeat >= c.ackWait {
		return fmt.Errorf("cluster: WithHeartbeat(%v) must be shorter than the ack wait (%v)", c.heartbeat, c.ackWait)
	}
	if c.url != "" && c.dataDir != "" {
		return errors.New("cluster: WithDataDir is for the embedded server, not with WithURL")
	}
	return nil
}

type option struct {
	name string
	side int
	fn   func(*config) error
}

func (o option) apply(c *config) error {
	c.given = append(c.given, given{o.name, o.side})
	return o.fn(c)
}

// WithURL connects New to a running NATS server (or cluster: several URLs
// separated by commas) instead of starting an embedded one, e.g.
// "nats://host:4222". Default: New starts an embedded JetStream server on
// a random loopback port (see URL and WithDataDir).
func WithURL(url string) Option {
	return option{"WithURL", forExecutor, func(c *config) error {
		if url == "" {
			return errors.New("cluster: WithURL(\"\"): empty URL")
		}
		c.url = url
		return nil
	}}
}

// WithDataDir keeps the embedded server's streams (tasks, results, Dicts,
// locks) in dir, so that they survive a restart of the program. Default: a
// temporary directory removed by Close. Not with WithURL.
func WithDataDir(dir string) Option {
	return option{"WithDataDir", forExecutor, func(c *config) error {
		if dir == "" {
			return errors.New("cluster: WithDataDir(\"\"): empty directory")
		}
		c.dataDir = dir
		return nil
	}}
}

var prefixRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// WithPrefix names the streams, subjects and buckets of this deployment:
// PREFIX_tasks, PREFIX_results, PREFIX.task, ... Executors and workers
// must use the same prefix; different prefixes share a server without
// seeing each other's work. Default "skein"; letters, digits, '-' and '_',
// at most 32.
func WithPrefix(p string) Option {
	return option{"WithPrefix", forBoth, func(c *config) error {
		if !prefixRE.MatchString(p) {
			return fmt.Errorf("cluster: WithPrefix(%q): use 1 to 32 letters, digits, '-' or '_'", p)
		}
		c.prefix = p
		return nil
	}}
}

// WithUserPassword authenticates to the NATS server with a user name and
// password. Default: no credentials. Use it with TLS (WithTLS, or a
// tls:// URL) outside a trusted network.
func WithUserPassword(user, password string) Option {
	return option{"WithUserPassword", forBoth, func(c *config) error {
		if user == "" {
			return errors.New("cluster: WithUserPassword: empty user")
		}
		c.conn = append(c.conn, nats.UserInfo(user, password))
		return nil
	}}
}

// WithToken authenticates to the NATS server with a token. Default: none.
func WithToken(token string) Option {
	return option{"WithToken", forBoth, func(c *config) error {
		if token == "" {
			return errors.New("cluster: WithToken(\"\"): empty token")
		}
		c.conn = append(c.conn, nats.Token(token))
		return nil
	}}
}

// WithNKeyFile authenticates with the NKey seed in file (the seed never
// leaves the process: the server sends a nonce that it signs). Default:
// none.
func WithNKeyFile(file string) Option {
	return option{"WithNKeyFile", forBoth, func(c *config) error {
		opt, err := nats.NkeyOptionFromSeed(file)
		if err != nil {
			return fmt.Errorf("cluster: WithNKeyFile: %w", err)
		}
		c.conn = append(c.conn, opt)
		return nil
	}}
}

// WithCredsFile authenticates with a NATS credentials file (a user JWT
// and its NKey seed, as issued by an operator with nsc). Default: none.
func WithCredsFile(file string) Option {
	return option{"WithCredsFile", forBoth, func(c *config) error {
		if file == "" {
			return errors.New("cluster: WithCredsFile(\"\"): empty path")
		}
		c.conn = append(c.conn, nats.UserCredentials(file))
		return nil
	}}
}

// WithTLS connects with TLS using cfg: the server's CA in cfg.RootCAs,
// and cfg.Certificates for mutual TLS. Default: plain TCP unless the URL
// is tls://. cfg must not be nil.
func WithTLS(cfg *tls.Config) Option {
	return option{"WithTLS", forBoth, func(c *config) error {
		if cfg == nil {
			return errors.New("cluster: WithTLS(nil)")
		}
		c.conn = append(c.conn, nats.Secure(cfg.Clone()))
		return nil
	}}
}

// WithName sets the connection's name, which the server shows in its
// monitoring. Default "skein executor" or "skein worker".
func WithName(name string) Option {
	return option{"WithName", forBoth, func(c *config) error {
		c.name = name
		return nil
	}}
}

// WithAckWait sets how long a worker may hold a task without news before
// the server gives it to another worker: a worker that died is noticed
// after this long. Workers send in-progress acks every WithHeartbeat
// while they hold a task, so long tasks are not redelivered. It is a
// property of the shared consumer, which New sets (the last New wins).
// Default 30s; at least 100ms.
func WithAckWait(d time.Duration) Option {
	return option{"WithAckWait", forExecutor, func(c *config) error {
		if d < 100*time.Millisecond {
			return fmt.Errorf("cluster: WithAckWait(%v): must be at least 100ms", d)
		}
		c.ackWait = d
		return nil
	}}
}

// WithHeartbeat sets how often a worker tells the server that it still
// holds a task (an in-progress ack). It travels with each task. Default a
// third of the ack wait; it must be positive and shorter than the ack
// wait.
func WithHeartbeat(d time.Duration) Option {
	return option{"WithHeartbeat", forExecutor, func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("cluster: WithHeartbeat(%v): must be positive", d)
		}
		c.heartbeat = d
		return nil
	}}
}

// WithMaxDeliveries sets how many times a task may be delivered to a
// worker before it is given up and its future fails with a
// *DeadLetterError. A delivery fails when its worker dies or loses the
// server (the ack wait passes), or cannot run the function (not
// registered, other types). Default 5; at least 1.
func WithMaxDeliveries(n int) Option {
	return option{"WithMaxDeliveries", forExecutor, func(c *config) error {
		if n < 1 {
			return fmt.Errorf("cluster: WithMaxDeliveries(%d): must be at least 1", n)
		}
		c.maxDeliveries = n
		return nil
	}}
}

// WithTimeout limits how long each task (each input of a Map) may run
// once a worker has started it; past d its context is cancelled and it
// fails with an error matching ErrTimeout. Default: no limit; d must be
// positive.
func WithTimeout(d time.Duration) Option {
	return option{"WithTimeout", forExecutor, func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("cluster: WithTimeout(%v): must be positive", d)
		}
		c.timeout = d
		return nil
	}}
}

// WithLocalWorkers makes New also serve tasks in its own process with n
// concurrent tasks, as Serve would, until Close: one program is then a
// whole cluster, and remote workers may join it. Default 0 (none); n must
// not be negative.
func WithLocalWorkers(n int) Option {
	return option{"WithLocalWorkers", forExecutor, func(c *config) error {
		if n < 0 {
			return fmt.Errorf("cluster: WithLocalWorkers(%d): must not be negative", n)
		}
		c.localWorkers = n
		return nil
	}}
}

// WithConcurrency sets how many tasks a worker (Serve) runs at once.
// Default runtime.GOMAXPROCS(0); at least 1.
func WithConcurrency(n int) Option {
	return option{"WithConcurrency", forWorker, func(c *config) error {
		if n < 1 {
			return fmt.Errorf("cluster: WithConcurrency(%d): must be at least 1", n)
		}
		c.concurrency = n
		return nil
	}}
}

// WithStopGrace sets how long a worker waits for a task that was
// cancelled or timed out to return before it reports the task as
// cancelled or timed out anyway and frees the task's message. A Go
// function cannot be stopped from outside: the goroutine runs on,
// holding one of the worker's slots, until it returns. Default 1s; d may
// be 0 but not negative.
func WithStopGrace(d time.Duration) Option {
	return option{"WithStopGrace", forWorker, func(c *config) error {
		if d < 0 {
			return fmt.Errorf("cluster: WithStopGrace(%v): must not be negative", d)
		}
		c.grace = d
		return nil
	}}
}

// WithReplicas sets on how many servers of a JetStream cluster the task
// and result streams are stored (1, 3 or 5): with 3, work goes on when
// one server dies. Default 1; the cluster needs at least n servers.
func WithReplicas(n int) Option {
	return option{"WithReplicas", forExecutor, func(c *config) error {
		if n != 1 && n != 3 && n != 5 {
			return fmt.Errorf("cluster: WithReplicas(%d): must be 1, 3 or 5", n)
		}
		c.replicas = n
		return nil
	}}
}
