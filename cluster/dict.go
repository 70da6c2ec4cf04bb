package cluster

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/skein-go/skein/internal/codec"
)

// Dict is a map shared by every program of a cluster, stored in a
// JetStream key-value bucket: the cluster-wide counterpart of Python's
// Manager().dict(). Each key has a revision that grows with every change;
// CompareAndSwap and Update use it to change a value without losing a
// concurrent change. Values are encoded like task arguments (see
// proc.Register). A Dict is safe for concurrent use; every method talks
// to the server and honours ctx.
type Dict[V any] struct {
	kv    jetstream.KeyValue
	codec *codec.Codec[V]
	name  string
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// OpenDict opens the Dict called name (letters, digits, '-' and '_'),
// creating it if no program did yet, through e's connection. Programs
// that open the same name with the same WithPrefix share it; they must
// use the same V.
func OpenDict[V any](ctx context.Context, e *Executor, name string) (*Dict[V], error) {
	if e == nil {
		return nil, errors.New("cluster: OpenDict on a nil *Executor")
	}
	if !nameRE.MatchString(name) {
		return nil, fmt.Errorf("cluster: OpenDict(%q): use 1 to 64 letters, digits, '-' or '_'", name)
	}
	c, err := codec.For[V]()
	if err != nil {
		return nil, fmt.Errorf("cluster: OpenDict(%q): %w", name, err)
	}
	kv, err := openBucket(ctx, e, jetstream.KeyValueConfig{
		Bucket:      e.names.dictBucketPrefix + name,
		Description: "skein Dict " + name,
		Storage:     jetstream.FileStorage,
		Replicas:    max(e.cfg.replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: OpenDict(%q): %w", name, err)
	}
	return &Dict[V]{kv: kv, codec: c, name: name}, nil
}

// openBucket opens a key-value bucket, creating it if needed.
func openBucket(ctx context.Context, e *Executor, cfg jetstream.KeyValueConfig) (kv jetstream.KeyValue, err error) {
	err = retry(ctx, func(ctx context.Context) error {
		kv, err = e.js.CreateKeyValue(ctx, cfg)
		if errors.Is(err, jetstream.ErrBucketExists) {
			kv, err = e.js.KeyValue(ctx, cfg.Bucket)
		}
		return err
	})
	return kv, err
}

var keyRE = regexp.MustCompile(`^[-/_=.A-Za-z0-9]+$`)

func (d *Dict[V]) checkKey(key string) error {
	if !keyRE.MatchString(key) || key[0] == '.' || key[len(key)-1] == '.' {
		return fmt.Errorf("cluster: Dict %s: bad key %q (letters, digits and -/_=. only, not starting or ending with '.')", d.name, key)
	}
	return nil
}

// Get returns key's value and revision, or an error matching ErrNotFound.
func (d *Dict[V]) Get(ctx context.Context, key string) (V, uint64, error) {
	var zero V
	if err := d.checkKey(key); err != nil {
		return zero, 0, err
	}
	en, err := d.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return zero, 0, fmt.Errorf("cluster: Dict %s: %q: %w", d.name, key, ErrNotFound)
	}
	if err != nil {
		return zero, 0, fmt.Errorf("cluster: Dict %s: get %q: %w", d.name, key, err)
	}
	v, err := d.decode(en.Value())
	return v, en.Revision(), err
}

// Set stores v under key, whatever was there, and returns the new
// revision.
func (d *Dict[V]) Set(ctx context.Context, key string, v V) (uint64, error) {
	b, err := d.encode(key, v)
	if err != nil {
		return 0, err
	}
	rev, err := d.kv.Put(ctx, key, b)
	if err != nil {
		return 0, fmt.Errorf("cluster: Dict %s: set %q: %w", d.name, key, err)
	}
	return rev, nil
}

// Add stores v under key only if key is absent; otherwise it returns an
// error matching ErrExists.
func (d *Dict[V]) Add(ctx context.Context, key string, v V) (uint64, error) {
	b, err := d.encode(key, v)
	if err != nil {
		return 0, err
	}
	rev, err := d.kv.Create(ctx, key, b)
	if errors.Is(err, jetstream.ErrKeyExists) {
		return 0, fmt.Errorf("cluster: Dict %s: add %q: %w", d.name, key, ErrExists)
	}
	if err != nil {
		return 0, fmt.Errorf("cluster: Dict %s: add %q: %w", d.name, key, err)
	}
	return rev, nil
}

// CompareAndSwap stores v under key only if key's revision is still rev
// (as Get, Set or an earlier CompareAndSwap returned it), and returns the
// new revision; otherwise it returns an error matching ErrConflict.
func (d *Dict[V]) CompareAndSwap(ctx context.Context, key string, rev uint64, v V) (uint64, error) {
	b, err := d.encode(key, v)
	if err != nil {
		return 0, err
	}
	n, err := d.kv.Update(ctx, key, b, rev)
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists) {
		return 0, fmt.Errorf("cluster: Dict %s: compare-and-swap %q at revision %d: %w", d.name, key, rev, ErrConflict)
	}
	if err != nil {
		return 0, fmt.Errorf("cluster: Dict %s: compare-and-swap %q: %w", d.name, key, err)
	}
	return n, nil
}

// Update replaces key's value with fn(old, found), retrying with the
// fresh value while other programs change it concurrently: an atomic
// read-modify-write, such as a shared counter. If fn returns an error,
// Update stops and returns it. It returns the value it stored.
func (d *Dict[V]) Update(ctx context.Context, key string, fn func(old V, found bool) (V, error)) (V, error) {
	for {
		old, rev, err := d.Get(ctx, key)
		found := err == nil
		if err != nil && !errors.Is(err, ErrNotFound) {
			return old, err
		}
		v, err := fn(old, found)
		if err != nil {
			return v, err
		}
		if found {
			_, err = d.CompareAndSwap(ctx, key, rev, v)
		} else {
			_, err = d.Add(ctx, key, v)
		}
		if err == nil || !(errors.Is(err, ErrConflict) || errors.Is(err, ErrExists)) {
			return v, err
		}
	}
}

// Delete removes key; deleting an absent key is not an error.
func (d *Dict[V]) Delete(ctx context.Context, key string) error {
	if err := d.checkKey(key); err != nil {
		return err
	}
	if err := d.kv.Delete(ctx, key); err != nil {
		return fmt.Errorf("cluster: Dict %s: delete %q: %w", d.name, key, err)
	}
	return nil
}

// Snapshot returns a copy of every key and value, as of one moment of
// the bucket.
func (d *Dict[V]) Snapshot(ctx context.Context) (map[string]V, error) {
	w, err := d.kv.WatchAll(ctx)
	if err != nil {
		return nil, fmt.Errorf("cluster: Dict %s: snapshot: %w", d.name, err)
	}
	defer w.Stop()
	out := map[string]V{}
	for {
		select {
		case en := <-w.Updates():
			if en == nil {
				return out, nil // the initial values are all in
			}
			if en.Operation() != jetstream.KeyValuePut {
				delete(out, en.Key())
				continue
			}
			v, err := d.decode(en.Value())
			if err != nil {
				return nil, err
			}
			out[en.Key()] = v
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (d *Dict[V]) encode(key string, v V) (b []byte, err error) {
	if err := d.checkKey(key); err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cluster: Dict %s: encode: %w: panic: %v", d.name, ErrEncoding, r)
		}
	}()
	if b, err = d.codec.Append(nil, v); err != nil {
		return nil, fmt.Errorf("cluster: Dict %s: encode: %w: %w", d.name, ErrEncoding, err)
	}
	return b, nil
}

func (d *Dict[V]) decode(b []byte) (v V, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cluster: Dict %s: decode: %w: panic: %v", d.name, ErrEncoding, r)
		}
	}()
	if v, err = d.codec.Decode(b); err != nil {
		return v, fmt.Errorf("cluster: Dict %s: decode: %w: %w", d.name, ErrEncoding, err)
	}
	return v, nil
}
