package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loom-ml/loom/bundle"
	"github.com/loom-ml/loom/nn"
	"github.com/loom-ml/loom/steps/frame"
)

// testBundle is a model of a numeric and a categorical column, normalized and one-hot encoded,
// with three classes; its weights are the initial ones, which predict as well as any for
// checking that the server gives the numbers the bundle gives.
func testBundle(t testing.TB) *bundle.Bundle {
	t.Helper()
	n := 30
	x := &frame.Column{Name: "x", Kind: frame.Numeric, Num: make([]float64, n)}
	city := &frame.Column{Name: "city", Kind: frame.Categorical, Str: make([]string, n)}
	y := &frame.Column{Name: "y", Kind: frame.Categorical, Str: make([]string, n)}
	for i := range n {
		x.Num[i] = float64(i)
		city.Str[i] = []string{"paris", "rome", "oslo"}[i%3]
		y.Str[i] = []string{"a", "b", "c"}[i%3]
	}
	fr, err := frame.New([]*frame.Column{x, city, y}, "y", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []frame.Step{frame.Encode{Columns: []string{"city"}}, frame.Normalize{Method: "zscore"}} {
		if err := s.Apply(fr); err != nil {
			t.Fatal(err)
		}
	}
	net, err := nn.New(nn.Spec{Inputs: 4, Seed: 1, Layers: []nn.LayerSpec{{Type: "dense", Units: 8, Activation: "relu"}, {Type: "dense", Units: 3, Activation: "softmax"}}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := bundle.New(net, fr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// want is what the bundle itself predicts for the records, as the server must answer.
func want(t testing.TB, b *bundle.Bundle, records []map[string]any) string {
	t.Helper()
	fr, err := frame.FromRecords("", records, b.Fields)
	if err != nil {
		t.Fatal(err)
	}
	preds, err := b.Score(fr)
	if err != nil {
		t.Fatal(err)
	}
	out := struct {
		Predictions []bundle.Record `json:"predictions"`
	}{}
	for i := range preds.Rows() {
		out.Predictions = append(out.Predictions, preds.Record(i))
	}
	js, _ := json.Marshal(out)
	return string(js) + "\n"
}

func post(t testing.TB, url, contentType, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url+"/v1/predict", contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestEndpoints(t *testing.T) {
	b := testBundle(t)
	var log bytes.Buffer
	s, err := New(b, Options{MaxBody: 1 << 10, Log: &syncWriter{w: &log}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	records := []map[string]any{{"x": 3, "city": "rome"}, {"x": 12.5, "city": "oslo", "extra": "ignored"}, {"x": 40, "city": "tokyo"}}
	js, _ := json.Marshal(map[string]any{"records": records})
	code, got := post(t, srv.URL, "application/json", string(js))
	if code != 200 || got != want(t, b, records) {
		t.Errorf("records: %d %s\nwant %s", code, got, want(t, b, records))
	}
	code, got = post(t, srv.URL, "application/json", `{"columns": ["city", "x"], "data": [["rome", 3], ["oslo", 12.5], ["tokyo", 40]]}`)
	if code != 200 || got != want(t, b, records) {
		t.Errorf("columns and data: %d %s", code, got)
	}
	code, got = post(t, srv.URL, "text/csv", "city,x,extra\nrome,3,a\noslo,12.5,b\ntokyo,40,c\n")
	if code != 200 || got != want(t, b, records) {
		t.Errorf("csv: %d %s", code, got)
	}
	for body, msg := range map[string]string{
		`{"records": [{"x": 1}]`:  "not the JSON",
		`{"records": [{"x": 1}]}`: `row 1: column \"city\": the model needs this column`,
		`{"records": [{"x": 1, "city": "a"}, {"x": "one", "city": "b"}]}`: `row 2: column \"x\": \"one\" is not a number`,
		`{"rows": []}`:                         "unknown field",
		`{"columns": ["x"], "data": [[1, 2]]}`: "row 1 has 2 values for 1 columns",
	} {
		if code, got := post(t, srv.URL, "application/json", body); code != 400 || !strings.Contains(got, msg) {
			t.Errorf("%s: %d %s, want 400 with %q", body, code, got, msg)
		}
	}
	if code, got := post(t, srv.URL, "application/json", `{"records": [`+strings.Repeat(`{"x": 1, "city": "rome"},`, 100)+`{"x": 1, "city": "rome"}]}`); code != 413 {
		t.Errorf("over the limit: %d %s", code, got)
	}
	resp, err := http.Get(srv.URL + "/v1/model")
	if err != nil {
		t.Fatal(err)
	}
	info, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(info), `{"name":"city","type":"categorical","levels":["oslo","paris","rome"]}`) || !strings.Contains(string(info), `"classes":["a","b","c"]`) {
		t.Errorf("/v1/model: %s", info)
	}
	if resp, err := http.Get(srv.URL + "/v1/predict"); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /v1/predict: %v %v", resp.StatusCode, err)
	}
	if lines := strings.Count(log.String(), "\n"); lines != 11 || !strings.Contains(log.String(), "POST /v1/predict 200") {
		t.Errorf("access log, %d lines:\n%s", lines, log.String())
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// TestConcurrentClients: 32 clients × 200 requests of varied rows all get the bundle's own numbers.
func TestConcurrentClients(t *testing.T) {
	b := testBundle(t)
	s, err := New(b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	clients, requests := 32, 200
	if testing.Short() {
		requests = 20
	}
	bodies, wants := make([]string, 16), make([]string, 16)
	for i := range bodies {
		var recs []map[string]any
		for r := range i + 1 {
			recs = append(recs, map[string]any{"x": float64(i*7+r) / 3, "city": []string{"paris", "rome", "oslo", "lima"}[(i+r)%4]})
		}
		js, _ := json.Marshal(map[string]any{"records": recs})
		bodies[i], wants[i] = string(js), want(t, b, recs)
	}
	var wg sync.WaitGroup
	errs := make(chan string, clients)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range requests {
				k := (c + r) % len(bodies)
				resp, err := http.Post(srv.URL+"/v1/predict", "application/json", strings.NewReader(bodies[k]))
				if err != nil {
					errs <- err.Error()
					return
				}
				got, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(got) != wants[k] {
					errs <- fmt.Sprintf("client %d request %d: %s", c, r, got)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestShutdownFinishesRequestsInFlight: once the context is done, ListenAndServe stops
// accepting, answers the request it is reading, and returns nil.
func TestShutdownFinishesRequestsInFlight(t *testing.T) {
	s, err := New(testBundle(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- s.ListenAndServe(ctx, "127.0.0.1:0", func(a string) { addr <- a }) }()
	url := "http://" + <-addr
	pr, pw := io.Pipe()
	result := make(chan string, 1)
	go func() {
		resp, err := http.Post(url+"/v1/predict", "application/json", pr)
		if err != nil {
			result <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		result <- fmt.Sprint(resp.StatusCode, " ", string(b))
	}()
	pw.Write([]byte(`{"records": [{"x": 1, `))
	time.Sleep(100 * time.Millisecond) // the request is being read
	cancel()
	time.Sleep(100 * time.Millisecond)
	if _, err := http.Get(url + "/healthz"); err == nil {
		t.Error("a new connection was accepted after shutdown began")
	}
	pw.Write([]byte(`"city": "rome"}]}`))
	pw.Close()
	if got := <-result; !strings.HasPrefix(got, "200 {\"predictions\"") {
		t.Errorf("the request in flight got %s", got)
	}
	if err := <-done; err != nil {
		t.Errorf("ListenAndServe: %v", err)
	}
}
