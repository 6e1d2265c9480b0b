package manifest

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// head is a valid manifest start that the broken cases below append stages to.
const head = `version: 1
params:
  seed: 0
  hidden: [8, 4]
  train: {lr: 0.001, epochs: 10}
  name: x
stages:
`

func parse(t *testing.T, src string, opt Options) *Manifest {
	t.Helper()
	m, err := Parse("p.yaml", []byte(src), opt)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return m
}

// TestBrokenManifests checks that each kind of mistake is reported at the right line and column
// with a message that says what is wrong.
func TestBrokenManifests(t *testing.T) {
	cases := []struct {
		name, src, pos, msg string
	}{
		{"yaml syntax", head + "  a: [\n", "8:1", "YAML syntax"},
		{"bare ${} in flow mapping", head + "  a:\n    uses: shell\n    with: {run: ${params.seed}}\n", "9:1", "must be quoted"},
		{"empty file", "", "1:1", "empty manifest"},
		{"not a mapping", "- 1\n", "1:1", "must be a mapping"},
		{"second document", "version: 1\nstages: {}\n---\nx: 1\n", "3:1", "one YAML document"},
		{"version 2", "version: 2\nstages: {}\n", "1:10", "version must be 1"},
		{"version string", "version: \"1\"\nstages: {}\n", "1:10", "version must be 1"},
		{"missing version", "stages: {}\n", "1:1", "missing version"},
		{"missing stages", "version: 1\n", "1:1", "missing stages"},
		{"unknown top-level key", "version: 1\nstage: {}\n", "2:1", `unknown top-level key "stage" (did you mean "stages"?)`},
		{"stages is a list", "version: 1\nstages: [a, b]\n", "2:9", "stages must be a mapping"},
		{"params is a list", "version: 1\nparams: [1]\nstages: {}\n", "2:9", "params must be a mapping"},
		{"name not a string", "version: 1\nname: [x]\nstages: {}\n", "2:7", "name must be a string"},
		{"bad stage name", head + "  Load:\n    uses: shell\n    with: {run: x}\n", "8:3", `bad stage name "Load"`},
		{"stage not a mapping", head + "  a: shell\n", "8:6", "stage a must be a mapping"},
		{"unknown stage key", head + "  a:\n    uses: shell\n    need: [b]\n    with: {run: x}\n", "10:5", `unknown key "need" (did you mean "needs"?)`},
		{"missing uses", head + "  a:\n    with: {run: x}\n", "8:3", "missing uses"},
		{"uses not a string", head + "  a:\n    uses: [shell]\n", "9:11", "uses must name a stage kind"},
		{"needs missing stage", head + "  load:\n    uses: shell\n    with: {run: x}\n  b:\n    uses: shell\n    needs: [lod]\n    with: {run: x}\n", "13:13", `needs "lod", which is not a stage (did you mean "load"?)`},
		{"needs itself", head + "  a:\n    uses: shell\n    needs: [a]\n    with: {run: x}\n", "10:13", "stage a needs itself"},
		{"needs not a name", head + "  a:\n    uses: shell\n    needs: [1]\n    with: {run: x}\n", "10:13", "needs must list stage names"},
		{"needs twice", head + "  a:\n    uses: shell\n    with: {run: x}\n  b:\n    uses: shell\n    needs: [a, a]\n    with: {run: x}\n", "13:16", `needs lists "a" twice`},
		{"cycle", head + "  a:\n    uses: shell\n    needs: [b]\n    with: {run: x}\n  b:\n    uses: shell\n    needs: [c]\n    with: {run: x}\n  c:\n    uses: shell\n    needs: [a]\n    with: {run: x}\n", "18:13", "cycle in needs: a -> b -> c -> a"},
		{"cache not a bool", head + "  a:\n    uses: shell\n    with: {run: x}\n    cache: yes\n", "11:12", "cache must be true or false"},
		{"with not a mapping", head + "  a:\n    uses: shell\n    with: [run]\n", "10:11", "with must be a mapping"},
		{"duplicate key", head + "  a:\n    uses: shell\n    uses: shell\n    with: {run: x}\n", "10:5", `duplicate key "uses"`},
		{"duplicate stage", head + "  a:\n    uses: shell\n    with: {run: x}\n  a:\n    uses: shell\n    with: {run: x}\n", "11:3", `duplicate key "a" (first at line 8)`},
		{"unknown param", head + "  a:\n    uses: shell\n    with:\n      run: echo ${params.trian.lr}\n", "11:19", `unknown param params.trian (did you mean "train"?); params has: hidden, name, seed, train`},
		{"unknown nested param", head + "  a:\n    uses: shell\n    with:\n      run: \"${params.train.rl}\"\n", "11:15", "params.train has: epochs, lr"},
		{"unknown name", head + "  a:\n    uses: shell\n    with:\n      run: \"echo ${foo}\"\n", "11:20", "unknown name foo"},
		{"expr syntax", head + "  a:\n    uses: shell\n    with:\n      run: 'echo ${params.seed +}'\n", "11:32", "unexpected token EOF"},
		{"unterminated", head + "  a:\n    uses: shell\n    with:\n      run: echo ${params.seed\n", "11:17", "unterminated ${"},
		{"empty expression", head + "  a:\n    uses: shell\n    with:\n      run: echo ${ }\n", "11:17", "empty ${}"},
		{"index out of range", head + "  a:\n    uses: shell\n    with:\n      run: echo ${params.hidden[5]}\n", "11:19", "index 5 is out of range: params.hidden has 2 items"},
		{"unknown param under a computed index", head + "  a:\n    uses: shell\n    with:\n      run: echo ${params.nope[params.seed]}\n", "11:19", "unknown param params.nope"},
		{"field of a number", head + "  a:\n    uses: shell\n    with:\n      run: echo ${params.seed.x}\n", "11:19", `params.seed is a number, it has no key "x"`},
		{"runtime error", head + "  a:\n    uses: shell\n    with:\n      run: echo ${int(params.name)}\n", "11:19", "evaluating ${int(params.name)}"},
		{"block scalar", head + "  a:\n    uses: shell\n    with:\n      run: |\n        echo ${params.nope}\n", "11:12", "unknown param params.nope"},
		{"non-scalar key", head + "  a:\n    uses: shell\n    with: {run: x}\n    ? [k]\n    : 1\n", "11:7", "mapping key must be a plain value"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("p.yaml", []byte(c.src), Options{})
			if err == nil {
				t.Fatalf("no error for\n%s", c.src)
			}
			want := "p.yaml:" + c.pos + ": "
			for _, line := range strings.Split(err.Error(), "\n") {
				if strings.HasPrefix(line, want) && strings.Contains(line, c.msg) {
					return
				}
			}
			t.Errorf("want an error at %s containing %q; got:\n%v", c.pos, c.msg, err)
		})
	}
}

func TestErrorListSortedAndComplete(t *testing.T) {
	src := head + "  b:\n    uses: [shel]\n  A:\n    uses: shell\n    with: {run: x}\n  c:\n    uses: shell\n    with: {run: x}\n    colour: red\n"
	_, err := Parse("p.yaml", []byte(src), Options{})
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("want an ErrorList, got %T: %v", err, err)
	}
	if len(list) != 3 {
		t.Fatalf("want 3 errors, got %d:\n%v", len(list), err)
	}
	wantLines := []int{9, 10, 16}
	for i, e := range list {
		if e.Pos.Line != wantLines[i] {
			t.Errorf("error %d at line %d, want %d: %v", i, e.Pos.Line, wantLines[i], e)
		}
	}
}

func TestFullExampleAndExamplesLoad(t *testing.T) {
	files, _ := filepath.Glob("../../examples/*/pipeline.yaml")
	files = append(files, "testdata/full.yaml")
	for _, f := range files {
		if _, err := Load(f, Options{}); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestFullExample(t *testing.T) {
	m, err := Load("testdata/full.yaml", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != 1 || m.Name != "breast-cancer" || m.Path != "testdata/full.yaml" {
		t.Errorf("header: %d %q %q", m.Version, m.Name, m.Path)
	}
	abs, _ := filepath.Abs("testdata")
	if m.Dir != abs {
		t.Errorf("Dir = %q, want %q", m.Dir, abs)
	}
	if want := []string{"load", "prep", "build", "train", "evaluate", "tune"}; !reflect.DeepEqual(m.Order, want) {
		t.Errorf("Order = %v, want %v", m.Order, want)
	}
	tr := m.Stages["train"]
	if !reflect.DeepEqual(tr.Needs, []string{"prep", "build"}) || tr.Uses != "train" || !tr.Cache {
		t.Errorf("train stage: %+v", tr)
	}
	if want := []string{"params.seed", "params.train.epochs", "params.train.lr"}; !reflect.DeepEqual(tr.Params, want) {
		t.Errorf("train Params = %v, want %v", tr.Params, want)
	}
	if got := tr.Settings["epochs"]; got != 100 {
		t.Errorf("epochs = %#v, want int 100", got)
	}
	if got := tr.Settings["optimizer"].(map[string]any)["lr"]; got != 0.001 {
		t.Errorf("lr = %#v, want 0.001", got)
	}
	if p := tr.PosOf("optimizer", "lr"); p.Line != 41 || p.Col != 35 {
		t.Errorf("PosOf(optimizer, lr) = %v, want line 41 col 35", p)
	}
	if m.Stages["load"].Params != nil {
		t.Errorf("load reads no params, got %v", m.Stages["load"].Params)
	}
	units := m.Stages["build"].Settings["layers"].([]any)[0].(map[string]any)["dense"].(map[string]any)["units"]
	if units != 64 {
		t.Errorf("units = %#v, want int 64", units)
	}
}

func TestInterpolationKeepsTypes(t *testing.T) {
	src := `version: 1
params:
  i: 3
  f: 0.001
  big: 1.0e-5
  one: 1.0
  b: true
  s: hello
  l: [8, 4]
  m: {x: 1, y: two}
stages:
  a:
    uses: shell
    with:
      run: "n=${params.i} f=${params.f} big=${params.big} one=${params.one} l=${params.l} m=${params.m} $${HOME} ${params.s}"
      env:
        I: ${params.i}
        F: "${params.f}"
        B: ${params.b}
        S: ${params.s}
        E: "${params.i * 2 + 1}"
        T: ${params.f * 2}
        LIST: x${params.l[1]}
`
	m := parse(t, src, Options{})
	st := m.Stages["a"]
	wantRun := "n=3 f=0.001 big=1e-05 one=1 l=[8, 4] m={x: 1, y: two} ${HOME} hello"
	if got := st.Settings["run"]; got != wantRun {
		t.Errorf("run = %q\nwant  %q", got, wantRun)
	}
	env := st.Settings["env"].(map[string]any)
	want := map[string]any{"I": 3, "F": 0.001, "B": true, "S": "hello", "E": 7, "T": 0.002, "LIST": "x4"}
	if !reflect.DeepEqual(env, want) {
		t.Errorf("env = %#v\nwant  %#v", env, want)
	}
	envNode := child(st.With, "env")
	for key, tag := range map[string]string{"I": "!!int", "F": "!!float", "B": "!!bool", "S": "!!str", "E": "!!int"} {
		n := child(envNode, key)
		if n.ShortTag() != tag {
			t.Errorf("env.%s tag %s, want %s", key, n.ShortTag(), tag)
		}
	}
	if p := st.PosOf("env", "F"); p.Line != 18 || p.Col != 12 {
		t.Errorf("PosOf(env, F) = %v, want 18:12", p)
	}
	want2 := []string{"params.b", "params.big", "params.f", "params.i", "params.l", "params.l[1]", "params.m", "params.one", "params.s"}
	if !reflect.DeepEqual(st.Params, want2) {
		t.Errorf("Params = %v\nwant     %v", st.Params, want2)
	}
}

func TestInterpolationListsAndMapsBecomeNodes(t *testing.T) {
	src := `version: 1
params:
  files: [a.csv, b.csv]
  vars: {A: "1", B: two}
stages:
  a:
    uses: shell
    with:
      run: x
      deps: ${params.files}
      env: "${params.vars}"
`
	st := parse(t, src, Options{}).Stages["a"]
	deps, env := child(st.With, "deps"), child(st.With, "env")
	if deps.Kind != yaml.SequenceNode || len(deps.Content) != 2 || deps.Content[1].Value != "b.csv" || deps.Content[1].Line != 10 {
		t.Errorf("deps node: %+v", deps)
	}
	if env.Kind != yaml.MappingNode || child(env, "B").Value != "two" || env.Line != 11 || env.Column != 12 {
		t.Errorf("env node: %+v", env)
	}
	if !reflect.DeepEqual(st.Settings["deps"], []any{"a.csv", "b.csv"}) || !reflect.DeepEqual(st.Settings["env"], map[string]any{"A": "1", "B": "two"}) {
		t.Errorf("settings: %#v", st.Settings)
	}
}

func TestInterpolatedNodesKeepPositions(t *testing.T) {
	src := `version: 1
params:
  hidden: [64, 32]
  opt: {name: adam, lr: 0.01}
stages:
  m:
    uses: model
    with:
      layers:
        - dense: {units: "${params.hidden[-1]}", activation: relu}
  t:
    uses: train
    with:
      optimizer: ${params.opt}
`
	m := parse(t, src, Options{})
	opt := m.Stages["t"].With.Content[1]
	if opt.Kind != yaml.MappingNode || opt.Line != 14 || opt.Column != 18 {
		t.Fatalf("optimizer node: kind %v at %d:%d", opt.Kind, opt.Line, opt.Column)
	}
	if p := m.Stages["t"].PosOf("optimizer", "lr"); p.Line != 14 || p.Col != 18 {
		t.Errorf("PosOf inside an interpolated map = %v, want 14:18", p)
	}
	if got := m.Stages["t"].Settings["optimizer"]; !reflect.DeepEqual(got, map[string]any{"name": "adam", "lr": 0.01}) {
		t.Errorf("optimizer = %#v", got)
	}
	if got := m.Stages["m"].Params; !reflect.DeepEqual(got, []string{"params.hidden"}) {
		t.Errorf("a computed index reads the whole list: %v", got)
	}
	units := m.Stages["m"].Settings["layers"].([]any)[0].(map[string]any)["dense"].(map[string]any)["units"]
	if units != 32 {
		t.Errorf("units = %#v", units)
	}
	e := m.Stages["m"].Errorf([]string{"layers", "0", "dense", "units"}, "too %s", "big")
	if e.Error() != "p.yaml:10:26: too big" {
		t.Errorf("Errorf = %q", e.Error())
	}
	if p := m.Stages["m"].PosOf("layers", "7", "dense"); p.Line != 10 || p.Col != 9 {
		t.Errorf("PosOf a missing path gives the nearest ancestor: %v", p)
	}
}

func TestAliasesAndMerges(t *testing.T) {
	src := `version: 1
stages:
  a:
    uses: train
    with: &base
      epochs: 5
      optimizer: {name: sgd, lr: 0.1}
  b:
    uses: train
    with:
      <<: *base
      epochs: 7
`
	m := parse(t, src, Options{})
	if got := m.Stages["b"].Settings; got["epochs"] != 7 || got["optimizer"] == nil {
		t.Errorf("merge: %#v", got)
	}
	if got := m.Stages["a"].Settings["epochs"]; got != 5 {
		t.Errorf("anchor source changed: %#v", got)
	}
}

func TestSets(t *testing.T) {
	src := head + "  a:\n    uses: shell\n    with: {run: \"${params.train.lr} ${params.hidden}\"}\n"
	m := parse(t, src, Options{Sets: []string{"train.lr=0.5", "params.hidden=[16, 8, 4]", "seed=7", "hidden[2]=2", "train.epochs=1", "name=null"}})
	if got := m.Params["train"].(map[string]any)["lr"]; got != 0.5 {
		t.Errorf("lr = %#v", got)
	}
	if got := m.Params["hidden"]; !reflect.DeepEqual(got, []any{16, 8, 2}) {
		t.Errorf("hidden = %#v", got)
	}
	if got := m.Params["seed"]; got != 7 {
		t.Errorf("seed = %#v", got)
	}
	if got := m.Params["name"]; got != nil {
		t.Errorf("name = %#v", got)
	}
	if got := m.Stages["a"].Settings["run"]; got != "0.5 [16, 8, 2]" {
		t.Errorf("run = %q", got)
	}
	m = parse(t, src, Options{Sets: []string{"train.lr=1"}})
	if got := m.Params["train"].(map[string]any)["lr"]; got != 1.0 {
		t.Errorf("an int set over a float param stays a float: %#v", got)
	}
}

func TestSetErrors(t *testing.T) {
	src := head + "  a:\n    uses: shell\n    with: {run: x}\n"
	cases := map[string]string{
		"train.lr":          "want PATH=VALUE",
		"=3":                "want PATH=VALUE",
		"trian.lr=0.1":      "param params.trian.lr does not exist (did you mean params.train.lr?)",
		"hidden[9]=1":       "params.hidden[9] does not exist",
		"seed.x=1":          "params.seed.x does not exist",
		"train.lr=[1, 2":    "not valid YAML",
		"train.lr=a: b: c":  "not valid YAML",
		"hidden[x]=1":       "bad index",
		"zzzzzzzzzzzzzzz=1": "params has: hidden, name, seed, train",
	}
	for set, msg := range cases {
		_, err := Parse("p.yaml", []byte(src), Options{Sets: []string{set}})
		if err == nil || !strings.Contains(err.Error(), msg) || !strings.Contains(err.Error(), "--set "+set) {
			t.Errorf("--set %s: want an error naming the item and containing %q, got %v", set, msg, err)
		}
	}
}

func TestParamFiles(t *testing.T) {
	dir := t.TempDir()
	best := filepath.Join(dir, "best.yaml")
	os.WriteFile(best, []byte("train:\n  lr: 0.05\nhidden: [3]\n"), 0o644)
	dotted := filepath.Join(dir, "dotted.yaml")
	os.WriteFile(dotted, []byte("params.train.epochs: 4\ntrain.lr: 0.3\n"), 0o644)
	wrapped := filepath.Join(dir, "wrapped.yaml")
	os.WriteFile(wrapped, []byte("params:\n  seed: 9\n"), 0o644)
	mixed := filepath.Join(dir, "mixed.yaml")
	os.WriteFile(mixed, []byte("seed: 1\nparams:\n  seed: 9\n"), 0o644)
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("train:\n  lr: 0.05\n  momentum: 0.9\n"), 0o644)
	src := head + "  a:\n    uses: shell\n    with: {run: x}\n"
	m := parse(t, src, Options{ParamFiles: []string{best}, Sets: []string{"train.lr=0.2"}})
	if got := m.Params["train"].(map[string]any); got["lr"] != 0.2 || got["epochs"] != 10 {
		t.Errorf("--set applies after the params file and the rest is kept: %#v", got)
	}
	if got := m.Params["hidden"]; !reflect.DeepEqual(got, []any{3}) {
		t.Errorf("hidden = %#v", got)
	}
	m = parse(t, src, Options{ParamFiles: []string{dotted}})
	if tr := m.Params["train"].(map[string]any); tr["epochs"] != 4 || tr["lr"] != 0.3 {
		t.Errorf("dotted paths not applied: %#v", m.Params)
	}
	m = parse(t, src, Options{ParamFiles: []string{wrapped}})
	if m.Params["seed"] != 9 {
		t.Errorf("params: wrapper not applied: %#v", m.Params)
	}
	_, err := Parse("p.yaml", []byte(src), Options{ParamFiles: []string{mixed}})
	if err == nil || !strings.Contains(err.Error(), "params.params") {
		// "params:" next to other keys is a real (missing) param, not a wrapper.
		t.Errorf("want params.params to be reported missing, got %v", err)
	}
	_, err = Parse("p.yaml", []byte(src), Options{ParamFiles: []string{bad}})
	if err == nil || !strings.Contains(err.Error(), bad+":3:3: param params.train.momentum does not exist") {
		t.Errorf("want a positioned error in the params file, got %v", err)
	}
}

func TestWithParams(t *testing.T) {
	m, err := Load("testdata/full.yaml", Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := m.WithParams(map[string]any{"params.train.lr": 0.01, "hidden": []any{128, 64}})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Stages["train"].Settings["optimizer"].(map[string]any)["lr"]; got != 0.01 {
		t.Errorf("copy lr = %#v", got)
	}
	if got := m.Stages["train"].Settings["optimizer"].(map[string]any)["lr"]; got != 0.001 {
		t.Errorf("original changed: lr = %#v", got)
	}
	units := c.Stages["build"].Settings["layers"].([]any)[0].(map[string]any)["dense"].(map[string]any)["units"]
	if units != 128 {
		t.Errorf("copy units = %#v", units)
	}
	if !reflect.DeepEqual(c.Order, m.Order) || c.Stages["build"].Pos != m.Stages["build"].Pos {
		t.Errorf("copy lost its structure")
	}
	if _, err := m.WithParams(map[string]any{"train.lrr": 0.1}); err == nil || !strings.Contains(err.Error(), "did you mean params.train.lr") {
		t.Errorf("unknown override: %v", err)
	}
	if _, err := m.WithParams(map[string]any{"hidden": []any{4}}); err == nil || !strings.Contains(err.Error(), "index 1 is out of range") {
		t.Errorf("an override that removes a read param: %v", err)
	}
}

func TestWithParamsConcurrent(t *testing.T) {
	m, err := Load("testdata/full.yaml", Options{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	for i := range 8 {
		go func() {
			c, err := m.WithParams(map[string]any{"train.epochs": i + 1})
			if err == nil && c.Stages["train"].Settings["epochs"] != i+1 {
				err = errors.New("wrong epochs")
			}
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

func TestOrderAndClosure(t *testing.T) {
	src := `version: 1
stages:
  report:
    uses: shell
    needs: [b, a]
    with: {run: x}
  b:
    uses: shell
    needs: [root]
    with: {run: x}
  a:
    uses: shell
    needs: root
    with: {run: x}
  root:
    uses: shell
    with: {run: x}
  lone:
    uses: shell
    cache: false
    with: {run: x}
`
	m := parse(t, src, Options{})
	if want := []string{"root", "b", "a", "report", "lone"}; !reflect.DeepEqual(m.Order, want) {
		t.Errorf("Order = %v, want %v", m.Order, want)
	}
	if m.Stages["lone"].Cache || !m.Stages["a"].Cache {
		t.Errorf("cache flags wrong")
	}
	if got, _ := m.Closure("a"); !reflect.DeepEqual(got, []string{"root", "a"}) {
		t.Errorf("Closure(a) = %v", got)
	}
	if got, _ := m.Closure("report", "lone"); !reflect.DeepEqual(got, []string{"root", "b", "a", "report", "lone"}) {
		t.Errorf("Closure(report, lone) = %v", got)
	}
	if _, err := m.Closure("reprot"); err == nil || !strings.Contains(err.Error(), `did you mean "report"`) {
		t.Errorf("Closure of an unknown stage: %v", err)
	}
}

func TestErrorFormatting(t *testing.T) {
	e := &Error{Pos: Pos{"f.yaml", 3, 7}, Msg: "bad"}
	if e.Error() != "f.yaml:3:7: bad" || e.Pos.String() != "f.yaml:3:7" {
		t.Errorf("%q", e.Error())
	}
	l := ErrorList{e, {Pos: Pos{"f.yaml", 4, 1}, Msg: "worse"}}
	if l.Error() != "f.yaml:3:7: bad\nf.yaml:4:1: worse" {
		t.Errorf("%q", l.Error())
	}
}

func TestLoadMissingFile(t *testing.T) {
	if _, err := Load("testdata/nope.yaml", Options{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("want a not-exist error, got %v", err)
	}
}

func TestDeterministic(t *testing.T) {
	a, _ := Load("testdata/full.yaml", Options{})
	for range 5 {
		b, _ := Load("testdata/full.yaml", Options{})
		if !reflect.DeepEqual(a.Order, b.Order) || !reflect.DeepEqual(a.Stages["tune"].Settings, b.Stages["tune"].Settings) {
			t.Fatal("two loads differ")
		}
	}
}

func TestBillionLaughs(t *testing.T) {
	src := "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n" +
		"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n" +
		"g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
	_, err := Parse("p.yaml", []byte(src), Options{})
	if err == nil || !strings.Contains(err.Error(), "too large") {
		t.Errorf("want a size error, got %v", err)
	}
}
