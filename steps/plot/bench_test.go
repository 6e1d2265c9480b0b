package plot

import (
	"io"
	"testing"
)

func BenchmarkLossCurve100Epochs(b *testing.B) {
	epochs, loss, val := curve(100)
	for b.Loop() {
		if err := LossCurve(io.Discard, epochs, loss, val, 0, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}
