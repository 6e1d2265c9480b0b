package plot

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"testing"
)

// curve returns a plausible training history of n epochs.
func curve(n int) ([]int, []float64, []float64) {
	epochs := make([]int, n)
	loss := make([]float64, n)
	val := make([]float64, n)
	for i := range epochs {
		epochs[i] = i + 1
		loss[i] = 0.7*math.Exp(-float64(i)/8) + 0.05
		val[i] = 0.75*math.Exp(-float64(i)/10) + 0.09 + 0.002*float64(i)
	}
	return epochs, loss, val
}

func render(t *testing.T, epochs []int, loss, val []float64, title string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := LossCurve(&buf, epochs, loss, val, 0, title); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func decode(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("output is not a PNG: %v", err)
	}
	if s := img.Bounds().Size(); s.X != Width || s.Y != Height {
		t.Fatalf("size %v, want %dx%d", s, Width, Height)
	}
	return img
}

// countColor counts pixels within a small distance of c (antialiasing blends edges).
func countColor(img image.Image, c color.RGBA) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if absDiff(r>>8, c.R) < 24 && absDiff(g>>8, c.G) < 24 && absDiff(bl>>8, c.B) < 24 {
				n++
			}
		}
	}
	return n
}

func absDiff(a uint32, b uint8) uint32 {
	if a > uint32(b) {
		return a - uint32(b)
	}
	return uint32(b) - a
}

func TestLossCurveIsDeterministicPNG(t *testing.T) {
	epochs, loss, val := curve(60)
	a := render(t, epochs, loss, val, "breast-cancer")
	b := render(t, epochs, loss, val, "breast-cancer")
	if !bytes.Equal(a, b) {
		t.Fatal("same input gave different bytes")
	}
	img := decode(t, a)
	if countColor(img, lossColor) < 200 || countColor(img, valColor) < 200 {
		t.Error("a curve is missing from the image")
	}
	if path := os.Getenv("LOOM_PLOT_OUT"); path != "" {
		// For looking at the figure by hand: LOOM_PLOT_OUT=/tmp/loss.png go test ./steps/plot
		if err := os.WriteFile(path, a, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := render(t, epochs, loss, val, "other title")
	if bytes.Equal(a, c) {
		t.Error("the title does not change the image")
	}
}

func TestLossCurveWithoutValidation(t *testing.T) {
	epochs, loss, _ := curve(10)
	img := decode(t, render(t, epochs, loss, nil, ""))
	if countColor(img, lossColor) < 100 {
		t.Error("loss curve missing")
	}
	if n := countColor(img, valColor); n != 0 {
		t.Errorf("%d val_loss-coloured pixels with no val_loss", n)
	}
	// All-NaN val_loss (no validation split) draws no line either.
	nan := []float64{math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN()}
	if n := countColor(decode(t, render(t, epochs, loss, nan, "")), valColor); n != 0 {
		t.Errorf("%d val_loss-coloured pixels with all-NaN val_loss", n)
	}
}

func TestLossCurveSkipsNaN(t *testing.T) {
	epochs, loss, val := curve(20)
	loss[5], val[7], val[19] = math.NaN(), math.Inf(1), math.NaN()
	img := decode(t, render(t, epochs, loss, val, "gaps"))
	if countColor(img, valColor) < 100 {
		t.Error("val_loss curve missing")
	}
	// A single epoch still shows its point.
	decode(t, render(t, []int{1}, []float64{0.5}, []float64{0.6}, "one epoch"))
}

func TestLossCurveErrors(t *testing.T) {
	var buf bytes.Buffer
	if err := LossCurve(&buf, nil, nil, nil, 0, ""); err == nil {
		t.Error("no epochs: no error")
	}
	if err := LossCurve(&buf, []int{1, 2}, []float64{1}, nil, 0, ""); err == nil {
		t.Error("short loss: no error")
	}
	if err := LossCurve(&buf, []int{1, 2}, []float64{1, 2}, []float64{1}, 0, ""); err == nil {
		t.Error("short val_loss: no error")
	}
}

func TestIntegerTicks(t *testing.T) {
	for _, r := range [][2]float64{{1, 3}, {1, 5}, {0, 100}, {1, 1}} {
		labelled := 0
		for _, tk := range (integerTicks{}).Ticks(r[0], r[1]) {
			if tk.Value != math.Trunc(tk.Value) {
				t.Errorf("range %v: tick at %v", r, tk.Value)
			}
			if tk.Label != "" {
				labelled++
			}
		}
		if labelled == 0 {
			t.Errorf("range %v: no labelled tick", r)
		}
	}
}

func TestROCAndConfusionAreDeterministicPNGs(t *testing.T) {
	draw := func() ([]byte, []byte) {
		var roc, cm bytes.Buffer
		curves := []Curve{{Label: "a", FPR: []float64{0, 0, 0.5, 1}, TPR: []float64{0, 0.6, 1, 1}}, {Label: "b", FPR: []float64{0, 1}, TPR: []float64{0, 1}}}
		if err := ROC(&roc, curves, "roc"); err != nil {
			t.Fatal(err)
		}
		if err := Confusion(&cm, [][]int{{5, 1, 0}, {2, 7, 1}, {0, 0, 9}}, []string{"x", "y", "z"}, "cm"); err != nil {
			t.Fatal(err)
		}
		return roc.Bytes(), cm.Bytes()
	}
	roc1, cm1 := draw()
	roc2, cm2 := draw()
	if !bytes.Equal(roc1, roc2) || !bytes.Equal(cm1, cm2) {
		t.Error("the same input gave other bytes")
	}
	for _, b := range [][]byte{roc1, cm1} {
		img := decode(t, b)
		if img.Bounds().Dx() != Width || img.Bounds().Dy() != Height {
			t.Errorf("size %v", img.Bounds())
		}
	}
	// The curves' colours are drawn; the chance line is grey.
	if countColor(decode(t, roc1), curveColors[0]) < 100 || countColor(decode(t, roc1), curveColors[1]) < 100 {
		t.Error("a curve is missing from roc.png")
	}
	if err := Confusion(io.Discard, [][]int{{1}}, []string{"a", "b"}, ""); err == nil {
		t.Error("a matrix that does not fit its labels was drawn")
	}
}
