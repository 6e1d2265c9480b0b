package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"

	"github.com/loom-ml/loom/pipeline"
	"github.com/loom-ml/loom/pipeline/manifest"
)

// shellKind runs a command with `sh -c` in the manifest's folder.
type shellKind struct{}

type shellSettings struct {
	Run     string            `yaml:"run"`
	Deps    []string          `yaml:"deps"`
	Outs    []string          `yaml:"outs"`
	Env     map[string]string `yaml:"env"`
	Metrics string            `yaml:"metrics"`
}

func (shellKind) Version() string { return "1" }

func (shellKind) Prepare(st *manifest.Stage, _ *manifest.Manifest) (pipeline.Job, error) {
	var s shellSettings
	if err := decode(st, &s); err != nil {
		return nil, err
	}
	if strings.TrimSpace(s.Run) == "" {
		return nil, st.Errorf([]string{"run"}, "stage %s: shell stage needs a command in run", st.Name)
	}
	return &shellJob{s: s}, nil
}

type shellJob struct{ s shellSettings }

func (j *shellJob) Deps() []string { return j.s.Deps }
func (j *shellJob) Outs() []string { return j.s.Outs }

func (j *shellJob) Run(ctx context.Context, env *pipeline.Env) error {
	cmd := exec.CommandContext(ctx, "sh", "-c", j.s.Run)
	cmd.Dir = env.Dir
	cmd.Stdout, cmd.Stderr = env.Log, env.Log
	cmd.Env = append(os.Environ(), "LOOM_STAGE="+env.Stage.Name, "LOOM_OUT="+env.Out)
	keys := make([]string, 0, len(j.s.Env))
	for k := range j.s.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		cmd.Env = append(cmd.Env, k+"="+j.s.Env[k])
	}
	if err := env.RunCommand(cmd); err != nil {
		if ee, ok := err.(*exec.ExitError); ok && ctx.Err() == nil {
			return fmt.Errorf("command exited with status %d", ee.ExitCode())
		}
		return err
	}
	if j.s.Metrics != "" {
		return readMetrics(env, j.s.Metrics)
	}
	return nil
}

// readMetrics reports every number in the JSON file at rel, nested keys joined with dots.
func readMetrics(env *pipeline.Env, rel string) error {
	b, err := os.ReadFile(env.Abs(rel))
	if err != nil {
		return fmt.Errorf("metrics file: %w", err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("metrics file %s: %w", rel, err)
	}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch v := v.(type) {
		case float64:
			env.ReportMetric(prefix, v)
		case bool:
			if v {
				env.ReportMetric(prefix, 1)
			} else {
				env.ReportMetric(prefix, 0)
			}
		case map[string]any:
			for k, x := range v {
				if prefix != "" {
					k = prefix + "." + k
				}
				walk(k, x)
			}
		}
	}
	walk("", v)
	return nil
}
