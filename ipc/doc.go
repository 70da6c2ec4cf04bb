// Package ipc connects processes: a typed queue, a typed pipe and a
// shared map that a program hands to its proc workers as task arguments.
// It is the Go home of Python's multiprocessing.Queue and JoinableQueue,
// multiprocessing.Pipe and Manager().dict().
//
// Every handle in this package (*Queue[T], *Conn[T], *Map[V]) can be an
// argument of a task run by proc (Submit, Map, Start), alone or inside a
// struct, as in Python, where a Queue is passed to Process(args=...). What
// crosses is not the queue's contents but a reference that the worker
// resolves through the parent (the descriptors travel over a socket that
// proc gives every worker). So a handle passes from a process to its own
// proc workers, and from those to theirs; bytes of a handle stored and
// decoded in some other process fail with an error. Values themselves are
// copied, encoded with the same codec as proc's task arguments: plain Go
// data, types with binary methods, or anything encoding/gob accepts. T is
// checked on both sides: a Queue[int] decoded as a Queue[string] fails
// with ErrType.
//
// # Queue
//
// A Queue[T] is a FIFO in shared memory (a memfd segment mapped by every
// process using it) with any number of producers and consumers in any of
// those processes. It is bounded (WithCapacity in items, WithBufferSize in
// bytes): Put waits for room, which is the backpressure Python's
// Queue(maxsize) gives. Put encodes the value in the caller, so an
// unencodable value is Put's error, at once, not a traceback in a feeder
// thread later. Close replaces the sentinel that Python consumers wait
// for: after Close, Puts fail with ErrClosed everywhere, and each Get
// returns what is left, then ErrClosed. TaskDone and Join are Python's
// JoinableQueue.
//
// Messages pass without a system call in steady state: producers and
// consumers each hold a lock of their own in the segment, and a process
// sleeps on a futex only when the queue is empty (or full) for longer
// than a short spin. The locks are robust (shm.Mutex): a process killed
// while holding one delays the others by a few milliseconds, not forever,
// and because every change to the queue is committed by a single store,
// what it leaves is consistent: an item is in the queue until a Get has
// removed it as a whole, and a Put killed half way leaves nothing. Two
// releases differ: Close closes the queue for every process; Release only
// ends this process's use of it (its descriptor and, in the process that
// made it, handing it to new workers).
//
// # Pipe
//
// Pipe returns the two ends of a duplex connection, each a *Conn[T] with
// Send, Recv and Poll (Python's poll(timeout): is a message waiting). When the other end is closed, or the process holding it
// exits or dies, Recv returns io.EOF after the messages sent before it,
// like Python's EOFError. Handing an end to a worker moves it: the
// parent's copy is closed once the worker has it, so that nothing keeps
// the worker's end open behind its back (the reason the seed's
// pipe_communication never ends). Ends are Unix sockets: a receiver
// learns of its peer's death from the kernel.
//
// # Manager
//
// Map[V] is a map from strings to values of type V that a process serves
// to its proc workers: Python's Manager().dict() and Manager().Lock() in one
// typed object. Get, Set, Delete, CompareAndSwap, Add (one atomic step for
// counters), Snapshot and the dict methods Len, Keys, Pop, SetDefault and
// Update, plus named locks (Lock(ctx, name), Unlock(name)).
// Hand it to a task like any argument; each worker gets a shared-memory
// channel to the parent, and a call is one round trip of a few
// microseconds. Values are copies, never proxies: changing a value you
// got, or a slice or map inside it, changes your copy only; write it back
// with Set, or with CompareAndSwap to be sure nobody changed it meanwhile.
// So Python's silently lost nested updates (d["k"].append(x)) cannot
// happen. A lock is held by a process; when a worker dies holding one, the
// parent releases it and the next holder's Lock succeeds with an
// *OwnerDeadError naming the dead process, so a dead holder never blocks
// the others. After the parent's Close every call, in every process, fails
// with ErrClosed; none hangs.
//
// All of it is Linux first: queues need shared memory and futexes (other
// systems get errors wrapping errors.ErrUnsupported); pipes work on every
// Unix.
package ipc
