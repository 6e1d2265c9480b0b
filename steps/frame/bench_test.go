package frame

import (
	"bytes"
	"encoding/csv"
	"os"
	"testing"
)

// BenchmarkReadCSVDigits reads digits.csv (1797 rows x 65 columns); see
// the ns/row metric.
func BenchmarkReadCSVDigits(b *testing.B) {
	data, err := os.ReadFile("../../examples/digits/data/digits.csv")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var rows int
	for b.Loop() {
		f, err := readCSV("digits.csv", data, ReadOptions{Target: "digit"})
		if err != nil {
			b.Fatal(err)
		}
		rows = f.Rows()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
}

func benchFrame(b *testing.B, n int) *Frame {
	f, err := Generate(GenOptions{Kind: "blobs", N: n, Features: 8, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	return f
}

// BenchmarkFilter100k runs a two-column filter over 100k rows.
func BenchmarkFilter100k(b *testing.B) {
	base := benchFrame(b, 100_000)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		f := base.Clone()
		b.StartTimer()
		if err := (Filter{Expr: "x0 > -5 && x3 < 5"}).Apply(f); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*base.Rows()), "ns/row")
}

// BenchmarkFilterRow100k reaches a column through row["..."], which fills
// every column of the row map.
func BenchmarkFilterRow100k(b *testing.B) {
	base := benchFrame(b, 100_000)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		f := base.Clone()
		b.StartTimer()
		if err := (Filter{Expr: `row["x0"] > -5`}).Apply(f); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*base.Rows()), "ns/row")
}

// BenchmarkMatrix100k builds the float32 training matrix of 100k rows.
func BenchmarkMatrix100k(b *testing.B) {
	f := benchFrame(b, 100_000)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, _, err := f.Matrix(Train); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*f.Rows()), "ns/row")
}

// BenchmarkStdCSVDigits is the floor ReadCSV is measured against: only
// encoding/csv splitting digits.csv into fields.
func BenchmarkStdCSVDigits(b *testing.B) {
	data, err := os.ReadFile("../../examples/digits/data/digits.csv")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r := csv.NewReader(bytes.NewReader(data))
		r.ReuseRecord = true
		for {
			if _, err := r.Read(); err != nil {
				break
			}
		}
	}
}
