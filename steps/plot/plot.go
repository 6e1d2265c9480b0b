// Package plot draws loom's figures as PNG images: the loss curve of a training run, ROC
// curves and confusion matrices.
package plot

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Version identifies the behaviour of this package: it changes whenever the same data can
// give other image bytes, so that a cache keyed on it misses.
const Version = "2"

// Width and Height are the size in pixels of the PNG images this package writes.
const (
	Width  = 640
	Height = 400
)

// dpi is vgimg's default resolution; points are 1/72 inch, so the canvas in points is the
// pixel size scaled by 72/dpi.
const dpi = 96

// markEvery is the largest curve length that also gets a marker per epoch: beyond it the
// markers crowd into a thick line, and below it a run of one or two epochs would show no line.
const markEvery = 40

// Colours from the Okabe-Ito palette, which stays distinguishable with colour blindness.
var (
	lossColor = color.RGBA{R: 0, G: 114, B: 178, A: 255}   // blue
	valColor  = color.RGBA{R: 213, G: 94, B: 0, A: 255}    // vermillion
	gridColor = color.RGBA{R: 220, G: 220, B: 220, A: 255} // light grey
	bestColor = color.RGBA{R: 0, G: 158, B: 115, A: 255}   // bluish green
)

// LossCurve writes to w a Width×Height PNG of loss and valLoss against epochs, with axis
// labels, a legend, the best epoch marked by a dotted line when best > 0, and the title (none
// when empty). valLoss may be nil or empty, and its line
// is drawn only when it has a finite value; NaN and ±Inf points of either series are skipped
// (a diverged epoch leaves a gap in the data, not an error). loss, and valLoss when given,
// must have one value per epoch. The same input always gives the same bytes.
func LossCurve(w io.Writer, epochs []int, loss, valLoss []float64, best int, title string) error {
	if len(epochs) == 0 {
		return errors.New("loss curve: no epochs")
	}
	if len(loss) != len(epochs) {
		return fmt.Errorf("loss curve: %d loss values for %d epochs", len(loss), len(epochs))
	}
	if len(valLoss) != 0 && len(valLoss) != len(epochs) {
		return fmt.Errorf("loss curve: %d val_loss values for %d epochs", len(valLoss), len(epochs))
	}
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.Title.Padding = vg.Points(6)
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = "loss"
	p.X.Tick.Marker = integerTicks{}
	p.Legend.Top = true
	grid := plotter.NewGrid()
	grid.Vertical.Color, grid.Horizontal.Color = gridColor, gridColor
	p.Add(grid)
	if err := addSeries(p, "loss", epochs, loss, lossColor, nil); err != nil {
		return err
	}
	if err := addSeries(p, "val_loss", epochs, valLoss, valColor, []vg.Length{vg.Points(6), vg.Points(3)}); err != nil {
		return err
	}
	if best > 0 {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, v := range slices.Concat(loss, valLoss) {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
		if lo <= hi {
			mark, err := plotter.NewLine(plotter.XYs{{X: float64(best), Y: lo}, {X: float64(best), Y: hi}})
			if err != nil {
				return err
			}
			mark.Color, mark.Width, mark.Dashes = bestColor, vg.Points(1), []vg.Length{vg.Points(2), vg.Points(2)}
			p.Add(mark)
			p.Legend.Add(fmt.Sprintf("best epoch %d", best), mark)
		}
	}
	return writePNG(w, p)
}

// addSeries adds one curve and its legend entry, skipping non-finite points; a series with no
// finite point adds nothing.
func addSeries(p *plot.Plot, name string, epochs []int, v []float64, c color.Color, dashes []vg.Length) error {
	xys := make(plotter.XYs, 0, len(v))
	for i, y := range v {
		if !math.IsNaN(y) && !math.IsInf(y, 0) {
			xys = append(xys, plotter.XY{X: float64(epochs[i]), Y: y})
		}
	}
	if len(xys) == 0 {
		return nil
	}
	line, points, err := plotter.NewLinePoints(xys)
	if err != nil {
		return fmt.Errorf("loss curve: %s: %w", name, err)
	}
	line.Color, line.Width, line.Dashes = c, vg.Points(1.5), dashes
	points.Shape, points.Color, points.Radius = draw.CircleGlyph{}, c, vg.Points(2)
	p.Add(line)
	if len(xys) <= markEvery {
		p.Add(points)
		p.Legend.Add(name, line, points)
		return nil
	}
	p.Legend.Add(name, line)
	return nil
}

// writePNG renders p at Width×Height pixels; vgimg and image/png hold no hidden state (no
// time stamps, fixed compression), so equal plots give equal bytes.
func writePNG(w io.Writer, p *plot.Plot) error {
	c := vgimg.NewWith(
		vgimg.UseWH(vg.Length(Width)*vg.Inch/dpi, vg.Length(Height)*vg.Inch/dpi),
		vgimg.UseDPI(dpi),
		vgimg.UseBackgroundColor(color.White),
	)
	// A margin keeps the legend and the last tick label off the image's edge.
	m := vg.Points(8)
	p.Draw(draw.Crop(draw.New(c), m/2, -m, m/2, -m/2))
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(w); err != nil {
		return fmt.Errorf("writing PNG: %w", err)
	}
	return nil
}

// integerTicks labels only whole epochs: gonum's default ticks would put labels such as 2.5
// on a short run.
type integerTicks struct{}

// Ticks returns gonum's default ticks that fall on integers, or one tick per integer when
// fewer than two of them do.
func (integerTicks) Ticks(lo, hi float64) []plot.Tick {
	var out []plot.Tick
	labelled := 0
	var ticks []plot.Tick
	if hi > lo { // DefaultTicks panics on an empty range
		ticks = (plot.DefaultTicks{}).Ticks(lo, hi)
	}
	for _, t := range ticks {
		if t.Value == math.Trunc(t.Value) {
			out = append(out, t)
			if t.Label != "" {
				labelled++
			}
		}
	}
	if labelled >= 2 {
		return out
	}
	out = out[:0]
	for v := math.Ceil(lo); v <= math.Floor(hi); v++ {
		out = append(out, plot.Tick{Value: v, Label: fmt.Sprint(v)})
	}
	return out
}
