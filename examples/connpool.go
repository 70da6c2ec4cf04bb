package examples

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skein-go/skein/resource"
)

func init() {
	register(Demo{
		Name:    "connpool",
		Summary: "the seed's ConnectionPool as a resource.Pool of real TCP connections to a loopback echo server",
		Run:     connpoolDemo,
	})
}

// connpoolConn is one pooled client connection to the echo server.
type connpoolConn struct {
	net.Conn
	lines *bufio.Reader
}

// connpoolEcho sends line on c and returns the echoed line.
func connpoolEcho(c *connpoolConn, line string) (string, error) {
	if err := c.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		return "", err
	}
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		return "", err
	}
	reply, err := c.lines.ReadString('\n')
	if err != nil {
		return "", err
	}
	return reply[:len(reply)-1], nil
}

// connpoolAlive is the pool's health check: a connection the server has
// hung up on reads EOF at once, a live one times out with nothing to read.
func connpoolAlive(_ context.Context, c *connpoolConn) error {
	if err := c.SetReadDeadline(time.Now()); err != nil {
		return err
	}
	_, err := c.lines.Peek(1)
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return nil // nothing to read: alive
	}
	if err == nil {
		return errors.New("unexpected data on an idle connection")
	}
	return err
}

func connpoolDemo(ctx context.Context, w io.Writer) (string, error) {
	const poolSize, workers, requests = 3, 10, 40
	// The server hangs up after this many lines on a connection, as servers
	// with a per-connection request limit do: the pool must notice.
	const serverLimit = 25

	srv, err := connpoolServe(serverLimit)
	if err != nil {
		return "", err
	}
	defer srv.stop()
	fmt.Fprintf(w, "echo server on %s closes each connection after %d lines\n", srv.addr, serverLimit)

	var dialer net.Dialer
	dial := func(ctx context.Context) (*connpoolConn, error) {
		c, err := dialer.DialContext(ctx, "tcp", srv.addr)
		if err != nil {
			return nil, err
		}
		return &connpoolConn{Conn: c, lines: bufio.NewReader(c)}, nil
	}
	hangUp := func(c *connpoolConn) { _ = c.Close() }
	pool, err := resource.New(poolSize, dial, hangUp,
		resource.WithHealthCheck(connpoolAlive),
		resource.WithConstructTimeout(time.Second))
	if err != nil {
		return "", err
	}
	defer pool.Close(context.Background()) // on early returns; Close is idempotent
	fmt.Fprintf(w, "%d workers share a pool of %d connections, %d requests each\n", workers, poolSize, requests)

	var retries atomic.Int64
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for id := range workers {
		wg.Go(func() {
			for n := range requests {
				if err := connpoolRequest(ctx, pool, poolSize, fmt.Sprintf("worker %d request %d", id, n), &retries); err != nil {
					errs <- fmt.Errorf("worker %d: %w", id, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return "", err
	}
	if err := pool.Close(ctx); err != nil {
		return "", err
	}
	srv.stop() // the pool hung up on every connection: the handlers end

	s := pool.Stats()
	fmt.Fprintf(w, "stats: built %d, destroyed %d (%d by the health check), lent %d times, %d waits (%v in all)\n",
		s.Constructed, s.Destroyed, s.HealthCheckFailed, s.Acquires, s.Waits, s.WaitDuration.Round(time.Microsecond))
	fmt.Fprintf(w, "requests retried on a fresh connection after a hang-up mid-request: %d\n", retries.Load())
	fmt.Fprintf(w, "most connections open at once on the server: %d (pool size %d)\n", srv.peak.Load(), poolSize)
	switch {
	case srv.peak.Load() > poolSize:
		return "", fmt.Errorf("the server saw %d connections at once, more than the pool's %d", srv.peak.Load(), poolSize)
	case s.Total != 0 || s.Destroyed != s.Constructed:
		return "", fmt.Errorf("after Close: %d resources alive, %d built, %d destroyed", s.Total, s.Constructed, s.Destroyed)
	case srv.echoed.Load() < workers*requests:
		return "", fmt.Errorf("the server echoed %d lines, want at least %d", srv.echoed.Load(), workers*requests)
	}
	return fmt.Sprintf("%d echoes verified by %d workers over a pool of %d TCP connections (%d dialled in all as the server hung up), never more than %d open",
		workers*requests, workers, poolSize, s.Constructed, poolSize), nil
}

// connpoolRequest sends one line through a pooled connection and checks
// the echo. A connection that fails mid-request is destroyed, not given
// back, and the request is retried on another one: at most poolSize
// connections can be dead at once, so poolSize+1 attempts always suffice.
func connpoolRequest(ctx context.Context, pool *resource.Pool[*connpoolConn], poolSize int, line string, retries *atomic.Int64) error {
	for attempt := 1; ; attempt++ {
		res, err := pool.Acquire(ctx)
		if err != nil {
			return err
		}
		reply, err := connpoolEcho(res.Value(), line)
		if err != nil {
			_ = res.Destroy()
			if attempt <= poolSize {
				retries.Add(1)
				continue
			}
			return err
		}
		_ = res.Release()
		if reply != line {
			return fmt.Errorf("sent %q, got back %q", line, reply)
		}
		return nil
	}
}

// connpoolServer is the demo's echo server.
type connpoolServer struct {
	addr     string
	ln       net.Listener
	handlers sync.WaitGroup
	open     atomic.Int64 // connections open now
	peak     atomic.Int64 // most connections open at once
	echoed   atomic.Int64 // lines echoed
}

// connpoolServe starts an echo server on a free loopback port; each
// connection is closed by the server after limit lines.
func connpoolServe(limit int) (*connpoolServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &connpoolServer{addr: ln.Addr().String(), ln: ln}
	s.handlers.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return // the listener was closed by stop
			}
			s.handlers.Go(func() { s.echo(c, limit) })
		}
	})
	return s, nil
}

// echo answers each line on c with the same line, up to limit lines.
func (s *connpoolServer) echo(c net.Conn, limit int) {
	defer c.Close()
	connpoolRaise(&s.peak, s.open.Add(1))
	defer s.open.Add(-1) // runs before c.Close: the client sees EOF only after
	lines := bufio.NewReader(c)
	for range limit {
		line, err := lines.ReadString('\n')
		if err != nil {
			return // the client hung up
		}
		if _, err := io.WriteString(c, line); err != nil {
			return
		}
		s.echoed.Add(1)
	}
}

// connpoolRaise raises peak to n if n is higher.
func connpoolRaise(peak *atomic.Int64, n int64) {
	for {
		p := peak.Load()
		if n <= p || peak.CompareAndSwap(p, n) {
			return
		}
	}
}

// stop closes the listener and waits for every handler to finish; the
// handlers end when their clients hang up, which the pool's Close does. A
// second call does nothing more.
func (s *connpoolServer) stop() {
	_ = s.ln.Close()
	s.handlers.Wait()
}
