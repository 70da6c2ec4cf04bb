// Command skein is the cluster build of skein's command line: it runs a
// NATS JetStream server for skein's cluster package, and workers.
//
// Usage:
//
//	skein serve [-data DIR] [-listen HOST:PORT] [-name NAME] [-cluster NAME -cluster-listen HOST:PORT -routes URL,...] [-config FILE]
//	skein worker -connect URL [-n N] [-prefix P] [-creds FILE | -user U -password P] [-tls-ca FILE]
//	skein version
//
// Install or run it with
//
//	go run github.com/skein-go/skein/cluster/cmd/skein serve -data ./jetstream
//
// `skein worker` serves the task functions registered in its own binary.
// Programs serve their own functions with one call,
// cluster.Serve(ctx, url), in their main; this command's worker is for
// the functions linked into it (none of yours) and for trying things out.
// Every subcommand accepts -h; usage errors exit with status 2.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/skein-go/skein/cluster"
	"github.com/skein-go/skein/proc"
)

const version = "v0.1.0-dev"

// usageError marks bad command-line input (exit status 2).
type usageError struct{ error }

func main() {
	proc.Main()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes the command line and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], stdout, stderr)
	case "worker":
		err = worker(ctx, args[1:], stderr)
	case "version":
		err = printVersion(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "skein: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	var ue usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "skein:", err)
		return 2
	}
	fmt.Fprintln(stderr, "skein:", err)
	return 1
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: skein COMMAND [flags]

commands:
  serve     run a NATS JetStream server for skein's cluster package
  worker    serve this binary's registered task functions from a server
  version   print the version

Run "skein COMMAND -h" for a command's flags.
`)
}

// parse parses a subcommand's flags; bad flags are a usage error.
func parse(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))}
	}
	return nil
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	data := fs.String("data", "skein-jetstream", "directory for the server's streams (created if needed)")
	listen := fs.String("listen", "127.0.0.1:4222", "client address HOST:PORT (other than loopback: set up auth and TLS with -config)")
	name := fs.String("name", "", "server name (required, and distinct, in a cluster)")
	clusterName := fs.String("cluster", "", "join a JetStream cluster of this name")
	clusterListen := fs.String("cluster-listen", "", "address for the cluster's routes, HOST:PORT (with -cluster)")
	routes := fs.String("routes", "", "comma-separated route URLs of the other members (with -cluster)")
	config := fs.String("config", "", "nats-server configuration file (accounts, TLS, ...)")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	var opts []cluster.ServerOption
	if *config != "" {
		opts = append(opts, cluster.ServerConfigFile(*config))
	}
	opts = append(opts, cluster.ServerDataDir(*data), cluster.ServerListen(*listen))
	if *name != "" {
		opts = append(opts, cluster.ServerName(*name))
	}
	if *clusterName != "" {
		if *clusterListen == "" {
			return usageError{errors.New("serve: -cluster needs -cluster-listen")}
		}
		var rs []string
		if *routes != "" {
			rs = strings.Split(*routes, ",")
		}
		opts = append(opts, cluster.ServerCluster(*clusterName, *clusterListen, rs...))
	}
	srv, err := cluster.StartServer(opts...)
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Fprintf(stdout, "skein: JetStream server ready at %s (data in %s)\n", srv.URL(), srv.DataDir())
	fmt.Fprintf(stdout, "skein: workers: cluster.Serve(ctx, %q), or skein worker -connect %s\n", srv.URL(), srv.URL())
	<-ctx.Done()
	return nil
}

func worker(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	url := fs.String("connect", "", "NATS URL of the server (required), e.g. nats://127.0.0.1:4222")
	n := fs.Int("n", runtime.GOMAXPROCS(0), "tasks to run at once")
	prefix := fs.String("prefix", "", "stream and subject prefix (default skein)")
	creds := fs.String("creds", "", "NATS credentials file")
	nkey := fs.String("nkey", "", "NKey seed file")
	user := fs.String("user", "", "user name")
	password := fs.String("password", "", "password (or $SKEIN_NATS_PASSWORD)")
	ca := fs.String("tls-ca", "", "PEM file of the CA that signed the server's certificate (enables TLS)")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if *url == "" {
		return usageError{errors.New("worker: -connect URL is required")}
	}
	if *n < 1 {
		return usageError{fmt.Errorf("worker: -n %d: must be at least 1", *n)}
	}
	opts := []cluster.Option{cluster.WithConcurrency(*n)}
	if *prefix != "" {
		opts = append(opts, cluster.WithPrefix(*prefix))
	}
	if *creds != "" {
		opts = append(opts, cluster.WithCredsFile(*creds))
	}
	if *nkey != "" {
		opts = append(opts, cluster.WithNKeyFile(*nkey))
	}
	if *user != "" {
		pw := *password
		if pw == "" {
			pw = os.Getenv("SKEIN_NATS_PASSWORD")
		}
		opts = append(opts, cluster.WithUserPassword(*user, pw))
	}
	if *ca != "" {
		pem, err := os.ReadFile(*ca)
		if err != nil {
			return err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("worker: no certificate in %s", *ca)
		}
		opts = append(opts, cluster.WithTLS(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
	}
	return cluster.Serve(ctx, *url, opts...)
}

func printVersion(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	fmt.Fprintf(stdout, "skein %s (cluster build, %s)\n", v, runtime.Version())
	return nil
}
