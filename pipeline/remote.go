package pipeline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/loom-ml/loom/remote"
)

// Remote modes: what a run does with its remote.
const (
	RemoteRead      = "read"      // take results from it, give it nothing
	RemoteWrite     = "write"     // give it results, take none
	RemoteReadWrite = "readwrite" // both (the default)
)

// sharing is a run's link to its remote: on a local miss it looks the ActionID up there; after
// a stage runs it uploads the objects, then the entry, in the background. A remote that fails
// is reported once and then left alone: the run goes on with its local cache, with the same
// results and exit code.
type sharing struct {
	store       remote.Store
	read, write bool
	cache       *Cache
	log         io.Writer

	down    atomic.Bool
	warned  sync.Once
	uploads chan *Entry
	wg      sync.WaitGroup
	damaged sync.Map // digests of remote objects found damaged: uploads replace them
}

// uploaders bounds the uploads running beside the stages.
const uploaders = 4

func newSharing(store remote.Store, mode string, c *Cache, log io.Writer) (*sharing, error) {
	sh := &sharing{store: store, cache: c, log: log}
	switch mode {
	case RemoteRead:
		sh.read = true
	case RemoteWrite:
		sh.write = true
	case RemoteReadWrite, "":
		sh.read, sh.write = true, true
	default:
		return nil, fmt.Errorf("remote mode %q: want read, write or readwrite", mode)
	}
	if sh.write {
		sh.uploads = make(chan *Entry, 64)
		for range uploaders {
			sh.wg.Add(1)
			go func() {
				defer sh.wg.Done()
				for e := range sh.uploads {
					sh.upload(e)
				}
			}()
		}
	}
	return sh, nil
}

// warn reports the remote's first failure and stops using it.
func (sh *sharing) warn(err error) {
	sh.down.Store(true)
	sh.warned.Do(func() {
		fmt.Fprintf(sh.log, "loom: warning: remote %s: %v; going on with the local cache\n", sh.store, err)
	})
}

func entryKey(id ActionID) string { return "actions/" + string(id[:2]) + "/" + string(id) }
func objectKey(d Digest) string   { return "objects/" + string(d[:2]) + "/" + string(d) }
func requestCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}

// fetch copies the entry of id and its objects from the remote into the local cache, checking
// every object against its digest; it reports whether the local cache now has the entry.
func (sh *sharing) fetch(id ActionID, stage string) bool {
	if sh == nil || !sh.read || sh.down.Load() {
		return false
	}
	ctx, cancel := requestCtx()
	defer cancel()
	e, raw, err := sh.entry(ctx, id)
	switch {
	case errors.Is(err, remote.ErrNotFound):
		return false
	case err != nil:
		sh.warn(err)
		return false
	}
	for _, ref := range e.refs() {
		if sh.cache.Verify(ref) == nil {
			continue // the local cache has it
		}
		if err := sh.object(ctx, ref); errors.Is(err, errDamaged) || errors.Is(err, remote.ErrDamaged) {
			sh.damaged.Store(ref.Digest, true)
			fmt.Fprintf(sh.log, "loom: warning: remote %s: %s of stage %s is damaged; the stage runs instead\n", sh.store, ref.object(), stage)
			return false
		} else if err != nil {
			sh.warn(err)
			return false
		}
	}
	if err := sh.cache.checkDir(sh.cache.actionPath(id)); err != nil {
		return false
	}
	return sh.cache.writeAtomic(sh.cache.actionPath(id), bytes.NewReader(raw), 0o644, true) == nil
}

// entry reads and checks the remote entry of id.
func (sh *sharing) entry(ctx context.Context, id ActionID) (*Entry, []byte, error) {
	r, err := sh.store.Get(ctx, entryKey(id))
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	raw, err := io.ReadAll(io.LimitReader(r, 64<<20))
	if err != nil {
		return nil, nil, err
	}
	var e Entry
	if json.Unmarshal(raw, &e) != nil || e.Action != id || e.Result.outputID() != e.Output {
		return nil, nil, remote.ErrNotFound // a damaged entry is no entry
	}
	for _, ref := range e.refs() {
		if !validDigest(ref.Digest) {
			return nil, nil, remote.ErrNotFound
		}
	}
	return &e, raw, nil
}

// object downloads one object into the local store, hashing it on the way: errDamaged when its
// bytes are not its digest's, and then nothing is stored.
func (sh *sharing) object(ctx context.Context, ref FileRef) error {
	r, err := sh.store.Get(ctx, objectKey(ref.Digest))
	if err != nil {
		return err
	}
	defer r.Close()
	path := sh.cache.ObjectPath(ref.Digest)
	if err := sh.cache.checkDir(path); err != nil {
		return err
	}
	return sh.cache.writeAtomic(path, &checkedReader{r: r, h: sha256.New(), want: ref.Digest}, 0o444, true)
}

// queue hands an entry a stage just made to the uploaders.
func (sh *sharing) queue(e *Entry) {
	if sh != nil && sh.write && !sh.down.Load() {
		sh.uploads <- e
	}
}

// wait lets the uploads finish; a run waits for them before it returns.
func (sh *sharing) wait() {
	if sh != nil && sh.write {
		close(sh.uploads)
		sh.wg.Wait()
	}
}

// upload sends the entry's objects the remote lacks, then the entry itself, which is never
// overwritten: an entry is there only once everything it names is.
func (sh *sharing) upload(e *Entry) {
	if sh.down.Load() {
		return
	}
	for _, ref := range e.refs() {
		_, replace := sh.damaged.Load(ref.Digest)
		err := retry(func(ctx context.Context) error {
			if has, err := sh.store.Has(ctx, objectKey(ref.Digest)); err != nil || (has && !replace) {
				return err
			}
			f, err := os.Open(sh.cache.ObjectPath(ref.Digest))
			if err != nil {
				return err
			}
			defer f.Close()
			return sh.store.Put(ctx, objectKey(ref.Digest), f, ref.Size, false)
		})
		if err != nil {
			sh.warn(err)
			return
		}
	}
	raw, err := json.Marshal(e) // the entry file's bytes, which may still be on their way to disk
	if err != nil {
		sh.warn(err)
		return
	}
	err = retry(func(ctx context.Context) error {
		err := sh.store.Put(ctx, entryKey(e.Action), bytes.NewReader(raw), int64(len(raw)), true)
		if errors.Is(err, remote.ErrExists) {
			return nil // another run made it first: entries of one ActionID are equivalent
		}
		return err
	})
	if err != nil {
		sh.warn(err)
	}
}

// retry runs f up to three times, waiting 0.2 s and 0.8 s between tries.
func retry(f func(ctx context.Context) error) error {
	var err error
	for i, wait := range []time.Duration{0, 200 * time.Millisecond, 800 * time.Millisecond} {
		time.Sleep(wait)
		ctx, cancel := requestCtx()
		err = f(ctx)
		cancel()
		if err == nil || i == 2 {
			break
		}
	}
	return err
}

// Push uploads the entries and objects of ids to store; it reports how many entries it sent.
func Push(loomDir string, store remote.Store, ids []ActionID, log io.Writer) (int, error) {
	c := newCache(loomDir)
	sh, err := newSharing(store, RemoteWrite, c, log)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		e, err := c.Get(id)
		if err != nil {
			continue // gone from the local cache since
		}
		sh.queue(e)
		n++
	}
	sh.wait()
	if sh.down.Load() {
		return n, fmt.Errorf("remote %s failed", store)
	}
	return n, nil
}

// Pull downloads from store the entries of the manifest's stages as their inputs are now, and
// their objects, into the local cache, without running anything: each stage's key comes from
// its upstream outputs, so it walks the DAG in order. It reports how many entries it got.
func (w *Workspace) Pull(store remote.Store, log io.Writer) (int, error) {
	unlock, err := lockDir(w.loom, nil)
	if err != nil {
		return 0, err
	}
	defer unlock()
	sh, err := newSharing(store, RemoteRead, w.cache, log)
	if err != nil {
		return 0, err
	}
	outputs := map[string]OutputID{}
	n := 0
	for _, name := range w.M.Order {
		r, err := newRecipe(w.M, w.M.Stages[name], w.kinds, w.jobs, w.files, outputs)
		if err != nil {
			continue // an input it needs is missing: nothing after it can be found either
		}
		id := r.ID()
		e, err := w.cache.Get(id)
		if err != nil && sh.fetch(id, name) {
			n++
			e, err = w.cache.Get(id)
		}
		if err == nil {
			outputs[name] = e.Output
		}
	}
	if sh.down.Load() {
		return n, fmt.Errorf("remote %s failed", store)
	}
	if err := w.files.save(); err != nil {
		return n, err
	}
	return n, w.cache.Flush()
}

// has reports whether the remote has an entry for id, and records its output in outputs so
// that the keys of the stages after it can be computed; a failing remote is asked no more.
func (sh *sharing) has(id ActionID, outputs map[string]OutputID, stage string) bool {
	if sh.down.Load() {
		return false
	}
	ctx, cancel := requestCtx()
	defer cancel()
	e, _, err := sh.entry(ctx, id)
	if err != nil {
		if !errors.Is(err, remote.ErrNotFound) {
			sh.down.Store(true)
		}
		return false
	}
	outputs[stage] = e.Output
	return true
}
