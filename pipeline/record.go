package pipeline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Summary is the outcome of a run as printed by --json and saved as the workspace's last run:
// the shape is the contract of MANIFEST.md, with a few added fields.
type Summary struct {
	Manifest string                        `json:"manifest,omitempty"`
	Time     time.Time                     `json:"time,omitzero"`
	Stages   []StageSummary                `json:"stages"`
	Metrics  map[string]map[string]float64 `json:"metrics"`
	Trials   map[string][]Trial            `json:"trials,omitempty"`
	// Actions lists every cache entry the run used, trials included; `loom gc` keeps these.
	Actions []ActionID `json:"actions,omitempty"`
	// Earlier holds, for the stages of the manifest that a run of some stages (`loom run
	// STAGE`) left out, their ActionIDs in earlier runs: `loom status` explains what changed
	// since then.
	Earlier map[string]ActionID `json:"earlier,omitempty"`
}

// StageSummary is one stage of a Summary.
type StageSummary struct {
	Name    string   `json:"name"`
	Kind    string   `json:"kind"`
	Status  Status   `json:"status"`
	Seconds float64  `json:"seconds"`
	Error   string   `json:"error,omitempty"`
	Action  ActionID `json:"action,omitempty"`
	Source  string   `json:"source,omitempty"` // "remote" for a result the remote cache gave
}

// A Trial is one run of part of the pipeline with other params that a stage made (a sweep's
// trial), as it reports it with Env.ReportTrials: --json lists them under "trials".
type Trial struct {
	Number  int                `json:"trial"`
	Params  map[string]any     `json:"params"`
	Metrics map[string]float64 `json:"metrics"`
	Status  string             `json:"status"`
	Error   string             `json:"error,omitempty"`
}

// Summarize turns a report into its Summary.
func (r *Report) Summarize(manifestPath string) *Summary {
	s := &Summary{Manifest: manifestPath, Time: time.Now().UTC(), Metrics: map[string]map[string]float64{}, Trials: r.Trials}
	for _, st := range r.Stages {
		ss := StageSummary{Name: st.Name, Kind: st.Kind, Status: st.Status, Seconds: round(st.Seconds, 4), Action: st.Action, Source: st.Source}
		if st.Err != nil {
			ss.Error = st.Err.Error()
		}
		if st.Entry != nil && len(st.Entry.Metrics) > 0 {
			s.Metrics[st.Name] = st.Entry.Metrics
		}
		if st.Action != "" && st.Entry != nil {
			s.Actions = append(s.Actions, st.Action)
		}
		s.Stages = append(s.Stages, ss)
	}
	s.Actions = append(s.Actions, r.partActions...)
	return s
}

func round(v float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	return float64(int64(v*p+0.5)) / p
}

// recordPath is where the last run of a manifest is saved.
func recordPath(loomDir, manifestPath string) string {
	return filepath.Join(Layout(loomDir).Runs(), manifestName(manifestPath)+".json")
}

// saveRecord saves the run as the manifest's last run, and returns its summary.
func (w *Workspace) saveRecord(rep *Report) (*Summary, error) {
	s := rep.Summarize(w.M.Path)
	if len(rep.Stages) < len(w.M.Order) {
		s.Earlier = w.earlierActions(s)
	}
	b, err := json.Marshal(s)
	if err != nil {
		return s, err
	}
	path := recordPath(w.loom.Dir(), w.M.Path)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return s, err
	}
	return s, writeFileAtomic(path, bytes.NewReader(b), 0o644, false)
}

// earlierActions returns the last known ActionIDs of the stages this run left out.
func (w *Workspace) earlierActions(s *Summary) map[string]ActionID {
	last, err := LastRun(w.M.Path)
	if err != nil {
		return nil
	}
	known := last.StageActions()
	for _, st := range s.Stages {
		delete(known, st.Name)
	}
	return known
}

// StageActions returns the last ActionID known for each stage: this run's and, for the stages
// it left out, the earlier runs'.
func (s *Summary) StageActions() map[string]ActionID {
	out := make(map[string]ActionID, len(s.Stages)+len(s.Earlier))
	for k, v := range s.Earlier {
		out[k] = v
	}
	for _, st := range s.Stages {
		if st.Action != "" {
			out[st.Name] = st.Action
		}
	}
	return out
}

// LastRun reads the saved summary of the last run of the manifest at manifestPath.
func LastRun(manifestPath string) (*Summary, error) {
	dir := LayoutOf(filepath.Dir(manifestPath)).Dir()
	b, err := os.ReadFile(recordPath(dir, manifestPath))
	if os.IsNotExist(err) {
		return nil, fmt.Errorf("%s has not been run yet (no %s)", manifestPath, recordPath(dir, manifestPath))
	}
	if err != nil {
		return nil, err
	}
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", recordPath(dir, manifestPath), err)
	}
	return &s, nil
}

// FormatMetric writes a metric as loom's tables show it: four decimals, integers of 2 or more
// (epochs, counts) as integers, and values below 0.001 with four significant digits.
func FormatMetric(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) >= 2 && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	if a := math.Abs(v); a != 0 && a < 1e-3 {
		return strconv.FormatFloat(v, 'g', 4, 64) // a δ of 1e-5 is not 0.0000
	}
	return strconv.FormatFloat(v, 'f', 4, 64)
}
