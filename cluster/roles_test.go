package cluster

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
)

// runRole plays the part named by envRole in a child process and returns
// its exit status. The child ends on SIGTERM or when its parent dies.
func runRole(role string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	f := strings.Fields(role)
	f = append(f, "", "", "", "", "", "")
	kind, arg1, arg2 := f[0], f[1], f[2]
	switch kind {
	case "worker": // worker URL CONCURRENCY
		n, _ := strconv.Atoi(arg2)
		if err := Serve(ctx, arg1, WithConcurrency(max(n, 1))); err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			return 1
		}
		return 0
	case "server": // server DIR PORT
		srv, err := StartServer(ServerDataDir(arg1), ServerListen("127.0.0.1:"+arg2))
		if err != nil {
			fmt.Fprintln(os.Stderr, "server:", err)
			return 1
		}
		fmt.Println(srv.URL())
		<-ctx.Done()
		srv.Close()
		return 0
	case "node": // node NAME DIR PORT CLUSTERPORT ROUTES
		srv, err := StartServer(ServerName(arg1), ServerDataDir(arg2), ServerListen("127.0.0.1:"+f[3]),
			ServerCluster("skein-test", "127.0.0.1:"+f[4], strings.Split(f[5], ",")...))
		if err != nil {
			fmt.Fprintln(os.Stderr, "node:", err)
			return 1
		}
		fmt.Println(srv.URL())
		<-ctx.Done()
		srv.Close()
		return 0
	}
	fmt.Fprintf(os.Stderr, "unknown role %q\n", role)
	return 2
}
