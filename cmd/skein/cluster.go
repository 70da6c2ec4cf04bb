package main

import (
	"context"
	"fmt"
	"io"
)

// The cluster commands live in the cluster module's own skein binary, so
// that this one, and every program using skein's core packages, stays free
// of the NATS server. Here they say where to find them.
func init() {
	for _, c := range []struct{ name, summary string }{
		{"serve", "(cluster build) run an embedded NATS JetStream server for cluster workers"},
		{"worker", "(cluster build) serve a binary's registered functions to a cluster"},
	} {
		commands[c.name] = command{
			summary: c.summary,
			run: func(context.Context, []string, io.Writer, io.Writer) error {
				return fmt.Errorf("%[1]s is part of the cluster build of skein, which embeds a NATS server:\n"+
					"  go run github.com/skein-go/skein/cluster/cmd/skein %[1]s -h\n"+
					"(in a checkout: cd cluster && go run ./cmd/skein %[1]s -h)", c.name)
			},
		}
	}
}
