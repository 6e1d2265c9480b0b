package pipeline

import (
	"context"
	"fmt"
	"io"
	"sync"
)

// partRunner runs parts of the pipeline through the workspace's cache.
type partRunner struct {
	ws    *Workspace
	share *sharing // the run's remote cache, which parts use too

	mu      sync.Mutex
	actions []ActionID // every entry a part used, for the run record (gc keeps them)
}

func (ex *executor) partRunner() *partRunner {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if ex.parts == nil {
		ex.parts = &partRunner{ws: ex.ws, share: ex.share}
	}
	return ex.parts
}

// partShare is a partRunner for a stage whose parts each compute on threads CPUs.
type partShare struct {
	runner  *partRunner
	threads int
}

// RunPart implements PartRunner.
func (s *partShare) RunPart(ctx context.Context, target string, overrides map[string]any) (*PartResult, error) {
	return s.runner.runPart(ctx, target, overrides, s.threads)
}

// runPart runs target and what it needs, the stages computing on threads CPUs.
func (t *partRunner) runPart(ctx context.Context, target string, overrides map[string]any, threads int) (*PartResult, error) {
	m, err := t.ws.M.WithParams(overrides)
	if err != nil {
		return nil, err
	}
	names, err := m.Closure(target)
	if err != nil {
		return nil, err
	}
	jobs, err := prepare(m, t.ws.kinds)
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		if len(jobs[n].Outs()) > 0 {
			return nil, fmt.Errorf("stage %s writes workspace files (outs), which parts running side by side would overwrite", n)
		}
	}
	// A part runs one stage at a time: the stage that runs parts decides how many run at once.
	ex := &executor{ws: t.ws, m: m, jobs: jobs, opt: Options{Jobs: 1, Log: io.Discard}, share: t.share, cpus: newCPUs(threads)}
	rep := ex.run(ctx, names)
	res := &PartResult{Metrics: map[string]map[string]float64{}}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, st := range rep.Stages {
		if st.Entry != nil {
			t.actions = append(t.actions, st.Action)
			if len(st.Entry.Metrics) > 0 {
				res.Metrics[st.Name] = st.Entry.Metrics
			}
		}
		if st.Status == Ran {
			res.Ran = append(res.Ran, st.Name)
		}
		if st.Status == Failed || st.Status == Skipped {
			return res, fmt.Errorf("stage %s %s: %v", st.Name, st.Status, st.Err)
		}
	}
	return res, nil
}

// noteTrials collects the trials a stage's entry reports, for the report.
func (ex *executor) noteTrials(name string, e *Entry) {
	if len(e.Trials) == 0 {
		return
	}
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if ex.trialsOut == nil {
		ex.trialsOut = map[string][]Trial{}
	}
	ex.trialsOut[name] = e.Trials
}
