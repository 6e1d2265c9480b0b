package pipeline

import (
	"errors"
	"os"
	"sync"
)

// Objects and entries are made durable in groups, as databases group-commit: a stage's objects
// are renamed into place unsynced, so the next stage can start reading them at once, and its
// entry waits in memory (found by Get in this process) while a committer goroutine syncs every
// object placed so far and then writes the waiting entries, each synced before it is renamed
// into place. So an entry on disk never names an object that a power cut could leave with other
// content, and a chain of stages does not wait for two fsyncs a stage: the committer does them
// beside it. A run commits everything before it lets go of the workspace lock; a killed run
// loses at most the entries not yet committed, which run again.
type commits struct {
	mu       sync.Mutex
	idle     *sync.Cond
	unsynced []string            // objects placed but not yet synced
	waiting  []*Entry            // entries waiting for the committer, in the order put
	pending  map[ActionID]*Entry // waiting or being written: what Get finds meanwhile
	running  bool                // a committer goroutine is at work
	err      error               // the first failure, reported by Commit
}

func (cm *commits) init() {
	cm.idle = sync.NewCond(&cm.mu)
	cm.pending = map[ActionID]*Entry{}
}

// placed records an object renamed into place without a sync.
func (c *Cache) placed(path string) {
	c.commits.mu.Lock()
	c.commits.unsynced = append(c.commits.unsynced, path)
	c.commits.mu.Unlock()
}

// PutLater records e as Put does, in the background: Get finds it at once, the entry file is
// written once every object placed before it is synced. Commit waits for it.
func (c *Cache) PutLater(e *Entry) {
	cm := &c.commits
	e.Output = e.Result.outputID()
	cm.mu.Lock()
	defer cm.mu.Unlock()
	cm.waiting = append(cm.waiting, e)
	cm.pending[e.Action] = e
	if !cm.running {
		cm.running = true
		go c.commitLoop()
	}
}

// commitLoop writes the waiting entries, a group at a time, until none waits.
func (c *Cache) commitLoop() {
	cm := &c.commits
	for {
		cm.mu.Lock()
		group := cm.waiting
		cm.waiting = nil
		if len(group) == 0 {
			cm.running = false
			cm.idle.Broadcast()
			cm.mu.Unlock()
			return
		}
		cm.mu.Unlock()
		err := c.syncObjects()
		for _, e := range group {
			if err == nil {
				err = c.writeEntry(e)
			}
		}
		cm.mu.Lock()
		for _, e := range group {
			delete(cm.pending, e.Action)
		}
		if err != nil && cm.err == nil {
			cm.err = err
		}
		cm.mu.Unlock()
	}
}

// pendingEntry returns the entry of id waiting to be committed, if any.
func (c *Cache) pendingEntry(id ActionID) *Entry {
	c.commits.mu.Lock()
	defer c.commits.mu.Unlock()
	return c.commits.pending[id]
}

// syncObjects syncs every object placed unsynced so far.
func (c *Cache) syncObjects() error {
	cm := &c.commits
	cm.mu.Lock()
	paths := cm.unsynced
	cm.unsynced = nil
	cm.mu.Unlock()
	var errs []error
	for _, p := range paths {
		if err := syncFile(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err) // gone: discarded as damaged, nothing to make durable
		}
	}
	return errors.Join(errs...)
}

// Commit waits until every entry put later is written and returns the first error in writing
// them.
func (c *Cache) Commit() error {
	cm := &c.commits
	cm.mu.Lock()
	defer cm.mu.Unlock()
	for cm.running {
		cm.idle.Wait()
	}
	err := cm.err
	cm.err = nil
	return err
}

// syncFile flushes the file at path to disk.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
