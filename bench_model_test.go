package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loom-ml/loom/bundle"
	"github.com/loom-ml/loom/serve"
	"github.com/loom-ml/loom/steps"
)

// breastCancerModel trains examples/breast-cancer and returns its model bundle and data file.
func breastCancerModel(b *testing.B) (*bundle.Bundle, string) {
	b.Helper()
	mf := copyExampleTB(b, "breast-cancer")
	if code := runCLI(context.Background(), []string{"run", "-f", mf}, io.Discard, io.Discard); code != 0 {
		b.Fatalf("run: exit %d", code)
	}
	bd, err := bundle.ReadFile(filepath.Join(filepath.Dir(mf), ".loom", "out", "train", steps.ModelFile))
	if err != nil {
		b.Fatal(err)
	}
	return bd, filepath.Join(filepath.Dir(mf), "data", "breast_cancer.csv")
}

// bigCSV writes the data file's rows repeated to at least n rows.
func bigCSV(b *testing.B, data string, n int) (string, int) {
	b.Helper()
	src, err := os.ReadFile(data)
	if err != nil {
		b.Fatal(err)
	}
	header, body, _ := bytes.Cut(src, []byte("\n"))
	rows := bytes.Count(body, []byte("\n"))
	var out bytes.Buffer
	out.Write(header)
	out.WriteByte('\n')
	total := 0
	for ; total < n; total += rows {
		out.Write(body)
	}
	path := filepath.Join(b.TempDir(), "big.csv")
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	return path, total
}

// BenchmarkScoreBreastCancer measures scoring rows already read: the fitted preprocessing
// replayed, the input laid out and the MLP run in batches.
func BenchmarkScoreBreastCancer(b *testing.B) {
	bd, data := breastCancerModel(b)
	path, rows := bigCSV(b, data, 100_000)
	fr, _, err := bd.ReadData(path, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := bd.Score(fr.Clone()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkPredictCommandBreastCancer measures `loom predict` of a 100k-row CSV file to CSV:
// reading, scoring and writing, the model loaded from the cache.
func BenchmarkPredictCommandBreastCancer(b *testing.B) {
	mf := copyExampleTB(b, "breast-cancer")
	if code := runCLI(context.Background(), []string{"run", "-f", mf}, io.Discard, io.Discard); code != 0 {
		b.Fatal("run failed")
	}
	path, rows := bigCSV(b, filepath.Join(filepath.Dir(mf), "data", "breast_cancer.csv"), 100_000)
	out := filepath.Join(b.TempDir(), "out.csv")
	b.ResetTimer()
	for b.Loop() {
		if code := runCLI(context.Background(), []string{"predict", "-f", mf, "--input", path, "--output", out}, io.Discard, io.Discard); code != 0 {
			b.Fatal("predict failed")
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkServe measures loom serve on loopback with 16 keep-alive clients, as wrk would:
// requests per second and the latency percentiles of 1-row and 100-row JSON bodies.
func BenchmarkServe(b *testing.B) {
	bd, data := breastCancerModel(b)
	srv, err := serve.New(bd, serve.Options{Log: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	go srv.ListenAndServe(ctx, "127.0.0.1:0", func(a string) { addr <- a })
	defer cancel()
	url := "http://" + <-addr + "/v1/predict"
	records := csvRecords(b, data)
	for _, rows := range []int{1, 100} {
		body, _ := json.Marshal(map[string]any{"records": records[:rows]})
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			const clients = 16
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
			lat := make([][]time.Duration, clients)
			var wg sync.WaitGroup
			start := time.Now()
			per := max(b.N/clients, 50)
			for c := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range per {
						t := time.Now()
						resp, err := client.Post(url, "application/json", bytes.NewReader(body))
						if err != nil {
							b.Error(err)
							return
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode != 200 {
							b.Errorf("status %d", resp.StatusCode)
							return
						}
						lat[c] = append(lat[c], time.Since(t))
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			all := slices.Concat(lat...)
			slices.Sort(all)
			b.ReportMetric(float64(len(all))/elapsed.Seconds(), "req/s")
			b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// csvRecords reads a CSV file as JSON records of numbers.
func csvRecords(b *testing.B, path string) []map[string]any {
	src, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(src)), "\n")
	header := strings.Split(lines[0], ",")
	var out []map[string]any
	for _, l := range lines[1:] {
		rec := map[string]any{}
		for i, v := range strings.Split(l, ",") {
			rec[header[i]] = json.Number(v)
		}
		out = append(out, rec)
	}
	return out
}
