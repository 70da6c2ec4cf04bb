// Package cluster runs skein's registered functions on many machines,
// through NATS JetStream: the same function that runs in a goroutine
// (pool) or a worker process (proc) runs on a worker anywhere, with the
// same Submit, Map and Future[T].
//
//	var Resize = proc.Register("resize", resize) // at package level, in every binary
//
//	// The submitting program:
//	e, err := cluster.New(ctx, cluster.WithURL("nats://queue:4222"))
//	...
//	img, err := cluster.Submit(ctx, e, Resize, job).Wait(ctx)
//
//	// A worker program (the same binary, or any that registers "resize"):
//	func main() {
//		proc.Main()
//		log.Fatal(cluster.Serve(ctx, "nats://queue:4222"))
//	}
//
// Without WithURL, New starts an embedded JetStream server in the program
// (a data directory, no other set-up): one machine, durable queues, and a
// URL that workers on other machines may join. StartServer runs the same
// server on its own, and `go run github.com/skein-go/skein/cluster/cmd/skein
// serve` runs it as a command (`skein worker -connect URL` is the generic
// worker). In production, point WithURL at a replicated NATS cluster and
// use WithReplicas(3).
//
// This package is a module of its own (github.com/skein-go/skein/cluster),
// so that programs that use only skein's core packages do not download a
// NATS server.
//
// # Delivery guarantees
//
// Plainly: every accepted task runs at least once, and its future
// resolves exactly once — with the task's result, or with an error that
// says why there is none. Nothing hangs and nothing is lost silently.
//
//   - Each task has an ID (the executor's ID and a sequence number) that
//     is its idempotency key: the server de-duplicates a task published
//     twice within two minutes (a publish retried after a lost
//     acknowledgement, a server restart), so a retry never makes a second
//     task.
//   - Tasks submitted together travel together: the executor publishes
//     whatever was submitted while it published the previous message, up
//     to 256 tasks a message, and workers store the results that are ready
//     together in one message. Each task still runs on its own slot and
//     resolves its own future.
//   - Tasks wait in a durable, file-backed work-queue stream. Workers pull
//     them from one shared consumer; a worker sends in-progress
//     acknowledgements (WithHeartbeat) while it holds a task, stores the
//     result in a durable results stream (a plain publish could be lost
//     with a server), and only then acknowledges the task.
//   - A worker that dies, hangs its connection or is cut off stops
//     acknowledging: after WithAckWait the server gives the task to
//     another worker. So a task can run twice (its effects should be
//     idempotent, or keyed by its ID); its result is still delivered to
//     the future once: results carry the task's ID, duplicates are
//     de-duplicated by the server or dropped by the executor (counted in
//     Stats.Duplicates).
//   - A task delivered WithMaxDeliveries times without a result fails with
//     a *DeadLetterError (ErrDeadLetter): never a hang. A worker that does
//     not know the function, or registered it with other types, hands the
//     task back for another worker; on the last delivery it fails it with
//     a *DeadLetterError wrapping ErrUnknownFunc or ErrMismatch.
//   - Cancellation (Submit's ctx ending, Future.Cancel) fails the future
//     at once and is broadcast to the workers: the one running the task
//     cancels its context, and one that receives it later drops it.
//     WithTimeout and ctx's deadline travel with the task and are enforced
//     by the worker. A task that ignores its cancelled context is reported
//     after WithStopGrace and left to finish in its goroutine.
//   - A task larger than the server's max_payload fails at Submit with
//     ErrTooLarge; a result that is too large fails its future with
//     ErrEncoding.
//   - A restarted server finds its tasks and results in its data
//     directory; executors and workers reconnect by themselves and
//     republish tasks whose acknowledgement was lost. With WithReplicas(3)
//     on a three-server cluster, work goes on when one server dies.
//   - Close fails the futures still waiting with ErrClosed; their tasks may
//     still run. Shutdown waits for every result.
//
// Progress that a task reports through progress.FromContext reaches the
// Reporter of the submitter's ctx (progress.NewContext), batched every
// 25 ms; the last counts travel with the result, so all of them are in
// when the future resolves. A task that runs twice reports twice.
//
// Dict and Lock are the cluster-wide counterparts of Python's
// Manager().dict() and Lock(), on JetStream key-value buckets:
// compare-and-swap and atomic update on the map, and a lock with a TTL so
// that a holder that dies releases it.
//
// # Security
//
// No code crosses the wire. A task message carries a function's name, its
// signature and its encoded argument; a worker runs only functions that
// its own binary registered, and decodes arguments with skein's data-only
// codecs (never a pickle-style decoder that runs code named by its
// input). Still, anyone who may publish to the task subject may run your
// registered functions with arguments of their choice: protect the server.
//
// Connections take NATS's credentials as options, passed through to the
// client unchanged: WithUserPassword, WithToken, WithNKeyFile (an NKey
// seed: the server sends a nonce that the client signs), WithCredsFile (a
// user JWT and seed, for operator-managed accounts), and WithTLS (server
// verification with RootCAs, mutual TLS with Certificates; a tls:// URL
// also turns TLS on). The embedded server listens on loopback only unless
// told otherwise; configure its users, accounts and TLS with
// ServerConfigFile (a nats-server configuration file) or ServerAuth before
// exposing it. Use WithPrefix to give each application its own streams on a
// shared server, and NATS account permissions to keep them apart.
package cluster
