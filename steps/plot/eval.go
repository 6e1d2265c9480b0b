package plot

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Curve is one ROC curve: its legend label and points.
type Curve struct {
	Label    string
	FPR, TPR []float64
}

// curveColors are the Okabe-Ito palette's colours, cycled for the curves of many classes.
var curveColors = []color.RGBA{
	{0, 114, 178, 255}, {213, 94, 0, 255}, {0, 158, 115, 255}, {204, 121, 167, 255},
	{230, 159, 0, 255}, {86, 180, 233, 255}, {240, 228, 66, 255}, {0, 0, 0, 255},
}

// ROC writes a Width×Height PNG of ROC curves (false against true positive rate) with the
// chance diagonal.
func ROC(w io.Writer, curves []Curve, title string) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text, p.Y.Label.Text = "false positive rate", "true positive rate"
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	p.Legend.Top, p.Legend.Left = false, false
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(4), vg.Points(4)
	grid := plotter.NewGrid()
	grid.Vertical.Color, grid.Horizontal.Color = gridColor, gridColor
	p.Add(grid)
	chance, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
	if err != nil {
		return err
	}
	chance.Color, chance.Dashes = gridColor, []vg.Length{vg.Points(4), vg.Points(4)}
	p.Add(chance)
	for i, c := range curves {
		xys := make(plotter.XYs, len(c.FPR))
		for j := range c.FPR {
			xys[j] = plotter.XY{X: c.FPR[j], Y: c.TPR[j]}
		}
		line, err := plotter.NewLine(xys)
		if err != nil {
			return fmt.Errorf("roc: %s: %w", c.Label, err)
		}
		line.Color, line.Width = curveColors[i%len(curveColors)], vg.Points(1.5)
		p.Add(line)
		p.Legend.Add(c.Label, line)
	}
	return writePNG(w, p)
}

// confusion is a confusion matrix as gonum's heat map reads it: row 0 at the top.
type confusion [][]int

func (c confusion) Dims() (int, int)       { return len(c[0]), len(c) }
func (c confusion) Z(col, row int) float64 { return float64(c[len(c)-1-row][col]) }
func (c confusion) X(col int) float64      { return float64(col) }
func (c confusion) Y(row int) float64      { return float64(row) }

// Confusion writes a Width×Height PNG of a confusion matrix: true classes down, predicted
// across, each cell shaded by its count and labelled with it.
func Confusion(w io.Writer, cm [][]int, labels []string, title string) error {
	if len(cm) == 0 || len(cm) != len(labels) {
		return fmt.Errorf("confusion: %d rows for %d labels", len(cm), len(labels))
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text, p.Y.Label.Text = "predicted", "true"
	pal := palette.Heat(64, 1)
	colors := pal.Colors()
	for i, j := 0, len(colors)-1; i < j; i, j = i+1, j-1 { // light for few, dark for many
		colors[i], colors[j] = colors[j], colors[i]
	}
	hm := plotter.NewHeatMap(confusion(cm), reversed(colors))
	p.Add(hm)
	var xys plotter.XYs
	var texts []string
	n := len(cm)
	for r := range n {
		for c := range n {
			xys = append(xys, plotter.XY{X: float64(c), Y: float64(n - 1 - r)})
			texts = append(texts, strconv.Itoa(cm[r][c]))
		}
	}
	counts, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: texts})
	if err != nil {
		return err
	}
	for i := range counts.TextStyle {
		counts.TextStyle[i].XAlign, counts.TextStyle[i].YAlign = draw.XCenter, draw.YCenter
	}
	p.Add(counts)
	ticks := func(flip bool) plot.ConstantTicks {
		t := make(plot.ConstantTicks, n)
		for i, l := range labels {
			v := float64(i)
			if flip {
				v = float64(n - 1 - i)
			}
			t[i] = plot.Tick{Value: v, Label: l}
		}
		return t
	}
	p.X.Tick.Marker, p.Y.Tick.Marker = ticks(false), ticks(true)
	return writePNG(w, p)
}

// reversed is a palette of colours in the given order.
type reversed []color.Color

func (r reversed) Colors() []color.Color { return r }

// Bars writes a Width×Height PNG of one horizontal bar per name, the first at the top.
func Bars(w io.Writer, names []string, values []float64, title string) error {
	if len(names) == 0 || len(names) != len(values) {
		return fmt.Errorf("bars: %d names for %d values", len(names), len(values))
	}
	p := plot.New()
	p.Title.Text = title
	n := len(names)
	vals := make(plotter.Values, n)
	for i := range names {
		vals[i] = values[n-1-i] // gonum draws the first bar at the bottom
	}
	b, err := plotter.NewBarChart(vals, vg.Points(math.Max(4, 240/float64(n))))
	if err != nil {
		return err
	}
	b.Horizontal, b.Color, b.LineStyle.Width = true, curveColors[0], 0
	p.Add(b)
	labels := make([]string, n)
	for i := range names {
		labels[i] = names[n-1-i]
	}
	p.NominalY(labels...)
	return writePNG(w, p)
}
