package steps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/loom-ml/loom/pipeline"
	"github.com/loom-ml/loom/pipeline/manifest"
	"github.com/loom-ml/loom/pipeline/settings"
)

// shellKind runs a command with `sh -c` in the manifest's folder.
type shellKind struct{}

// shellSettings run a command with sh -c in the manifest's folder.
type shellSettings struct {
	// The command, run by sh -c in the manifest's folder. Quote params with
	// ${shquote(params.x)} or pass them through env: a bare ${params.x} is pasted in as shell
	// text.
	Run string `yaml:"run" check:"required,nonempty"`
	// Files and folders it reads, relative to the manifest's folder or absolute; their content
	// is part of the cache key. Regular files and folders only (links are followed).
	Deps []filePath `yaml:"deps"`
	// Files and folders it writes, inside the manifest's folder; cleared before the command
	// runs, cached and restored. No symbolic links on their paths.
	Outs []filePath `yaml:"outs"`
	// Environment variables for the command; values may interpolate params.
	Env map[envName]envValue `yaml:"env"`
	// A JSON file the command writes; its numbers become the stage's metrics.
	Metrics string `yaml:"metrics" check:"nonempty"`
}

// envName is the name of an environment variable.
type envName string

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// DecodeSetting implements settings.Value.
func (e *envName) DecodeSetting(n *yaml.Node) error {
	if !envNameRE.MatchString(n.Value) {
		return fmt.Errorf("bad name %q: want letters, digits and _, not starting with a digit", n.Value)
	}
	*e = envName(n.Value)
	return nil
}

// SettingSchema implements settings.Value.
func (*envName) SettingSchema() map[string]any {
	return map[string]any{"type": "string", "pattern": envNameRE.String()}
}

// envValue is the value of an environment variable: a string, a number or a boolean, as
// written (or as interpolation wrote it).
type envValue string

// DecodeSetting implements settings.Value.
func (e *envValue) DecodeSetting(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		return errors.New("must be a string, a number or a boolean")
	}
	*e = envValue(n.Value)
	return nil
}

// SettingSchema implements settings.Value.
func (*envValue) SettingSchema() map[string]any {
	return map[string]any{"type": []string{"string", "number", "boolean"}}
}

func (shellKind) Version() string { return "1" }

func (shellKind) Prepare(st *manifest.Stage, m *manifest.Manifest) (pipeline.Job, error) {
	var s shellSettings
	if err := settings.Decode(st, m, &s); err != nil {
		return nil, err
	}
	if strings.TrimSpace(s.Run) == "" {
		return nil, st.Errorf([]string{"run"}, "stage %s: shell stage needs a command in run", st.Name)
	}
	return &shellJob{s: s}, nil
}

type shellJob struct{ s shellSettings }

func (j *shellJob) Deps() []string { return paths(j.s.Deps) }
func (j *shellJob) Outs() []string { return paths(j.s.Outs) }

func (j *shellJob) Run(ctx context.Context, env *pipeline.Env) error {
	cmd := exec.CommandContext(ctx, "sh", "-c", j.s.Run)
	cmd.Dir = env.Dir
	cmd.Stdout, cmd.Stderr = env.Log, env.Log
	cmd.Env = append(os.Environ(), "LOOM_STAGE="+env.Stage.Name, "LOOM_OUT="+env.Out)
	for _, k := range slices.Sorted(maps.Keys(j.s.Env)) {
		cmd.Env = append(cmd.Env, string(k)+"="+string(j.s.Env[k]))
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
