package pipeline

import (
	"context"
	"fmt"
	"io"
	"sync"
)

// trialRunner runs trials of a tune stage through the workspace's cache.
type trialRunner struct {
	ws *Workspace

	mu      sync.Mutex
	actions []ActionID // every entry a trial used, for the run record
}

func (ex *executor) trialRunner() TrialRunner {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if ex.trials == nil {
		ex.trials = &trialRunner{ws: ex.ws}
	}
	return ex.trials
}

// RunTrial implements TrialRunner.
func (t *trialRunner) RunTrial(ctx context.Context, target string, overrides map[string]any) (*TrialResult, error) {
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
			return nil, fmt.Errorf("stage %s writes workspace files (outs), which trials running side by side would overwrite", n)
		}
	}
	// Trials run one stage at a time each: the tune stage decides how many trials run at once.
	ex := &executor{ws: t.ws, m: m, jobs: jobs, opt: Options{Jobs: 1, Log: io.Discard}}
	rep := ex.run(ctx, names)
	res := &TrialResult{Metrics: map[string]map[string]float64{}}
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
