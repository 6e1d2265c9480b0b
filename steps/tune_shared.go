package steps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/loom-ml/loom/pipeline"
	"github.com/loom-ml/loom/steps/coord"
)

// A shared sweep: processes that run the same tune stage against one storage (loom run
// --storage) run its trials together. Each unit of work (a trial at a rung) is a row; a
// process decides the next units under the sweep's lock by replaying the units done so far
// through a fresh sweep, exactly as a local sweep decides them, so that the decisions do not
// depend on which process ran what: the same manifest and seed give the same trials and the
// same best as one process does.

// runShared runs the sweep with the other processes of the storage, then reports it as a local
// sweep does.
func (j *tuneJob) runShared(ctx context.Context, env *pipeline.Env) error {
	db, err := coord.Open(ctx, env.Storage)
	if err != nil {
		return err
	}
	defer db.Close()
	host, _ := os.Hostname()
	worker := fmt.Sprintf("%s:%d", host, os.Getpid())
	id := "tune/" + string(env.Action)
	fmt.Fprintf(env.Log, "sweep %s… shared through %s as %s\n", string(env.Action)[:12], db, worker)
	var wg sync.WaitGroup
	errs := make([]error, j.workers(env))
	stats := make([]coordStats, len(errs))
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = j.work(ctx, env, db, id, worker, &stats[i])
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	var total coordStats
	for _, s := range stats {
		total.units += s.units
		total.spent += s.spent
	}
	if total.units > 0 {
		fmt.Fprintf(env.Log, "ran %d units here; coordination %.2f ms per unit\n", total.units, float64(total.spent.Microseconds())/1000/float64(total.units))
	}
	units, err := db.Units(ctx, id)
	if err != nil {
		return err
	}
	sw := j.newSweep(env)
	sw.ctx = ctx
	if _, complete, err := sw.extend(units); err != nil {
		return err
	} else if !complete {
		return fmt.Errorf("sweep %s is not complete", id)
	}
	return j.report(env, sw)
}

// coordStats count the units a worker ran and the time it spent deciding, claiming and
// reporting them: the cost of sharing the sweep.
type coordStats struct {
	units int
	spent time.Duration
}

// work claims and runs units until the sweep is complete.
func (j *tuneJob) work(ctx context.Context, env *pipeline.Env, db *coord.DB, id, worker string, stats *coordStats) error {
	stale := 2 * time.Duration(j.s.Heartbeat) * time.Second
	failures := 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		complete := false
		start := time.Now()
		// Units decided earlier are claimed first; the sweep is locked to decide more only when
		// none waits.
		u, err := db.Claim(ctx, id, worker)
		if err == nil && u == nil {
			err = db.Decide(ctx, id, stale, j.s.Retries, func(units []coord.Unit) ([]coord.Unit, error) {
				sw := j.newSweep(env)
				sw.ctx, sw.log = ctx, io.Discard
				fresh, done, err := sw.extend(units)
				complete = done
				return fresh, err
			})
			if err == nil {
				u, err = db.Claim(ctx, id, worker)
			}
		}
		if err != nil {
			// A database that restarts comes back within seconds; one that went away is an
			// error after about half a minute, never a hang.
			if failures++; failures > 6 {
				return fmt.Errorf("the sweep's storage stopped answering: %w", err)
			}
			fmt.Fprintf(env.Log, "storage: %v; trying again\n", err)
			sleep(ctx, time.Duration(failures)*time.Second)
			continue
		}
		failures = 0
		switch {
		case u != nil:
			stats.spent += time.Since(start)
			if err := j.runUnit(ctx, env, db, id, worker, u, stats); err != nil {
				return err
			}
			stats.units++
		case complete:
			return nil
		default:
			sleep(ctx, 20*time.Millisecond) // the units the next decision needs are running elsewhere
		}
	}
}

// runUnit runs one unit, beating its heart, and stores its result.
func (j *tuneJob) runUnit(ctx context.Context, env *pipeline.Env, db *coord.DB, id, worker string, u *coord.Unit, stats *coordStats) error {
	fmt.Fprintf(env.Log, "unit %d (trial %d, rung %d) claimed\n", u.K, u.Trial+1, u.Rung)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		every := time.Duration(j.s.Heartbeat) * time.Second / 3
		for {
			select {
			case <-runCtx.Done():
				return
			case <-time.After(every):
				if mine, err := db.Beat(runCtx, id, u.K, worker); err == nil && !mine {
					cancel() // it was queued again and someone else runs it now
					return
				}
			}
		}
	}()
	res, err := env.Parts(j.workers(env)).RunPart(runCtx, j.s.Target, u.Params)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if runCtx.Err() != nil {
		return nil // no longer this process's unit
	}
	raw, _ := json.Marshal(res)
	errText := ""
	if err != nil {
		errText = err.Error()
	}
	fmt.Fprintf(env.Log, "unit %d (trial %d, rung %d) done here\n", u.K, u.Trial+1, u.Rung)
	start := time.Now()
	defer func() { stats.spent += time.Since(start) }()
	// The result is worth waiting for: a database that restarts is back within seconds.
	var ferr error
	for try := 1; try <= 6; try++ {
		if ferr = db.Finish(ctx, id, u.K, worker, raw, errText); ferr == nil {
			return nil
		}
		fmt.Fprintf(env.Log, "storage: %v; trying again\n", ferr)
		sleep(ctx, time.Duration(try)*time.Second)
	}
	return fmt.Errorf("the sweep's storage stopped answering: %w", ferr)
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// extend replays the stored units through the sweep in the order a local sweep decides and
// records them, and returns the units now decidable that the storage does not have yet, and
// whether the sweep is complete (nothing more to decide, every unit finished).
func (sw *sweep) extend(stored []coord.Unit) (fresh []coord.Unit, complete bool, err error) {
	see := func(n int) (bool, error) {
		for ; sw.seen < n; sw.seen++ {
			if sw.seen >= len(stored) {
				return false, nil
			}
			s := stored[sw.seen]
			if s.State != coord.Done && s.State != coord.Failed {
				return false, nil
			}
			u := sw.units[sw.seen]
			if len(s.Result) > 0 && string(s.Result) != "null" {
				u.res = &pipeline.PartResult{}
				if err := json.Unmarshal(s.Result, u.res); err != nil {
					return false, fmt.Errorf("unit %d: %w", s.K, err)
				}
			}
			if s.Error != "" {
				u.err = errors.New(s.Error)
			}
			if err := sw.record(u); err != nil {
				return false, err
			}
			sw.trials[u.trial].worker = s.Worker
		}
		return true, nil
	}
	for k := 0; ; k++ {
		ok, err := see(max(0, k-sw.parallel+1))
		if !ok || err != nil {
			return fresh, false, err
		}
		u, decided := sw.decide()
		for !decided && sw.seen < len(sw.units) {
			if ok, err := see(sw.seen + 1); !ok || err != nil {
				return fresh, false, err
			}
			u, decided = sw.decide()
		}
		if !decided {
			return fresh, len(fresh) == 0 && sw.seen == len(stored), nil
		}
		u.over = sw.overrides(u)
		sw.units = append(sw.units, u)
		if k < len(stored) {
			if s := stored[k]; s.Trial != u.trial || s.Rung != u.rung {
				return nil, false, fmt.Errorf("the sweep's unit %d is trial %d rung %d in the storage, trial %d rung %d here: another loom wrote it?", k, s.Trial, s.Rung, u.trial, u.rung)
			}
			continue
		}
		fresh = append(fresh, coord.Unit{K: k, Trial: u.trial, Rung: u.rung, Budget: u.budget, Params: u.over})
	}
}
