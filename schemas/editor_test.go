package schemas

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// yamlLS starts yaml-language-server (LOOM_YAML_LS names the executable; .ci/run installs it
// from npm and sets LOOM_REQUIRE_TOOLS=1, so that in CI a missing server fails instead of
// skipping).
func yamlLS(t *testing.T) *lspClient {
	t.Helper()
	bin := os.Getenv("LOOM_YAML_LS")
	if bin == "" {
		if os.Getenv("LOOM_REQUIRE_TOOLS") != "" {
			t.Fatal("LOOM_YAML_LS is not set: install yaml-language-server (npm) and point LOOM_YAML_LS at it")
		}
		t.Skip("LOOM_YAML_LS is not set (yaml-language-server from npm); .ci/run sets it")
	}
	cmd := exec.Command(bin, "--stdio")
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatalf("yaml-language-server: %v", err)
	}
	c := &lspClient{t: t, in: in, msgs: make(chan lspMessage, 64), diags: map[string][]diagnostic{}}
	go readMessages(bufio.NewReader(out), c.msgs)
	t.Cleanup(func() { in.Close(); cmd.Process.Kill(); cmd.Wait() })
	c.request("initialize", map[string]any{"processId": os.Getpid(), "rootUri": nil, "capabilities": map[string]any{}})
	c.notify("initialized", map[string]any{})
	c.notify("workspace/didChangeConfiguration", map[string]any{"settings": yamlSettings})
	return c
}

var yamlSettings = map[string]any{"yaml": map[string]any{"validate": true, "schemaStore": map[string]any{"enable": false}}}

type diagnostic struct {
	Range struct {
		Start struct{ Line, Character int } `json:"start"`
	} `json:"range"`
	Message string `json:"message"`
}

type lspClient struct {
	t     *testing.T
	in    io.Writer
	msgs  chan lspMessage // every lspMessage the server sends, in order
	id    int
	diags map[string][]diagnostic
}

type lspMessage struct {
	ID     *json.RawMessage `json:"id"`
	Method string           `json:"method"`
	Params json.RawMessage  `json:"params"`
	Result json.RawMessage  `json:"result"`
}

// readMessages reads the server's messages into msgs until it closes its output.
func readMessages(r *bufio.Reader, msgs chan<- lspMessage) {
	defer close(msgs)
	for {
		length := 0
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimSpace(line)
			if line == "" {
				break
			}
			if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
				length, _ = strconv.Atoi(v)
			}
		}
		b := make([]byte, length)
		if _, err := io.ReadFull(r, b); err != nil {
			return
		}
		var m lspMessage
		if json.Unmarshal(b, &m) == nil {
			msgs <- m
		}
	}
}

func (c *lspClient) send(msg map[string]any) {
	msg["jsonrpc"] = "2.0"
	b, _ := json.Marshal(msg)
	fmt.Fprintf(c.in, "Content-Length: %d\r\n\r\n%s", len(b), b)
}

func (c *lspClient) notify(method string, params any) {
	c.send(map[string]any{"method": method, "params": params})
}

// request sends a request and handles messages until its response.
func (c *lspClient) request(method string, params any) json.RawMessage {
	c.t.Helper()
	c.id++
	id := strconv.Itoa(c.id)
	c.send(map[string]any{"id": c.id, "method": method, "params": params})
	for {
		m, ok := c.next(30 * time.Second)
		if !ok {
			c.t.Fatalf("yaml-language-server did not answer %s", method)
		}
		if m.Method == "" && m.ID != nil && string(*m.ID) == id {
			return m.Result
		}
	}
}

// next handles the next lspMessage, answering the server's requests and recording diagnostics;
// false when none came within timeout.
func (c *lspClient) next(timeout time.Duration) (lspMessage, bool) {
	var m lspMessage
	select {
	case got, open := <-c.msgs:
		if !open {
			c.t.Fatal("yaml-language-server exited")
		}
		m = got
	case <-time.After(timeout):
		return m, false
	}
	switch {
	case m.Method == "textDocument/publishDiagnostics":
		var p struct {
			URI         string       `json:"uri"`
			Diagnostics []diagnostic `json:"diagnostics"`
		}
		json.Unmarshal(m.Params, &p)
		c.diags[p.URI] = p.Diagnostics
	case m.Method != "" && m.ID != nil: // a request from the server
		var result any
		if m.Method == "workspace/configuration" {
			var p struct{ Items []any }
			json.Unmarshal(m.Params, &p)
			items := make([]any, len(p.Items))
			for i := range items {
				items[i] = yamlSettings["yaml"]
			}
			result = items
		}
		c.send(map[string]any{"id": m.ID, "result": result})
	}
	return m, true
}

// diagnose opens a manifest and returns the diagnostics the server publishes once it has
// checked it against its schema. Validation is debounced and the schema loads
// asynchronously, so this reads until no lspMessage comes for a while.
func (c *lspClient) diagnose(path string) []diagnostic {
	c.t.Helper()
	abs, _ := filepath.Abs(path)
	uri := (&url.URL{Scheme: "file", Path: abs}).String()
	text, err := os.ReadFile(path)
	if err != nil {
		c.t.Fatal(err)
	}
	c.notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{"uri": uri, "languageId": "yaml", "version": 1, "text": string(text)}})
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if _, ok := c.next(800 * time.Millisecond); !ok {
			if d, ok := c.diags[uri]; ok {
				c.notify("textDocument/didClose", map[string]any{"textDocument": map[string]any{"uri": uri}})
				return d
			}
		}
	}
	c.t.Fatalf("no diagnostics for %s", path)
	return nil
}

// TestEditorsSeeNoFalseErrors: yaml-language-server, reading each example's schema modeline,
// reports nothing on the examples, whose numbers are often ${params...}.
func TestEditorsSeeNoFalseErrors(t *testing.T) {
	c := yamlLS(t)
	manifests, _ := filepath.Glob(filepath.Join("..", "examples", "*", "*.yaml"))
	if len(manifests) == 0 {
		t.Fatal("no examples")
	}
	for _, m := range manifests {
		src, _ := os.ReadFile(m)
		if !strings.Contains(string(src), "yaml-language-server: $schema=") {
			continue
		}
		for _, d := range c.diagnose(m) {
			t.Errorf("%s:%d:%d: %s", m, d.Range.Start.Line+1, d.Range.Start.Character+1, d.Message)
		}
	}
}

// TestEditorsSeeMistakes: the as-written schema still flags a misspelt key, a wrong enum value
// and a misspelt layer, at their lines.
func TestEditorsSeeMistakes(t *testing.T) {
	c := yamlLS(t)
	schema, _ := filepath.Abs("pipeline.schema.json")
	head := "# yaml-language-server: $schema=" + schema + "\nversion: 1\nname: m\nparams: {lr: 0.1}\nstages:\n"
	for _, tc := range []struct {
		stage string
		line  int // 1-based, in the whole file
		want  string
	}{
		{"  t: {uses: train, with: {epochz: 3, optimizer: {lr: \"${params.lr}\"}}}\n", 6, "epochz"},
		{"  t: {uses: train, with: {optimizer: {name: adamm, lr: \"${params.lr}\"}}}\n", 6, "adamm"},
		{"  b:\n    uses: model\n    with:\n      layers:\n        - dense: {units: 4}\n        - densse: {units: 1}\n", 11, "densse"},
	} {
		path := filepath.Join(t.TempDir(), "pipeline.yaml")
		os.WriteFile(path, []byte(head+tc.stage), 0o644)
		diags := c.diagnose(path)
		found := false
		for _, d := range diags {
			found = found || d.Range.Start.Line+1 == tc.line
		}
		if !found {
			t.Errorf("%s: no diagnostic at line %d; got %+v", strings.TrimSpace(tc.stage), tc.line, diags)
		}
	}
}
