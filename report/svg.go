package report

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
)

// Charts are hand-written SVG: a few hundred lines cover every chart the report draws, and the
// page needs no script library, font or image from anywhere.

// palette is Okabe-Ito's, distinguishable with colour blindness.
var palette = []string{"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"}

const (
	chartW, chartH         = 560, 320
	padL, padR, padT, padB = 64, 16, 36, 48
)

// series is one line or set of points of a chart.
type series struct {
	name   string
	xs, ys []float64
	dashed bool
	dots   bool // points, not a line
}

// lineChart is an x-y chart.
type lineChart struct {
	title, xLabel, yLabel string
	series                []series
	logY                  bool
	unitSquare            bool      // both axes [0, 1]
	markX                 []float64 // vertical marks (the best epoch)
	markLabel             string
	diagonal              bool // y = x: chance for ROC, perfect for predicted against true
}

func (c *lineChart) svg() string {
	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, s := range c.series {
		for i, x := range s.xs {
			y := s.ys[i]
			if !finite(x) || !finite(y) || (c.logY && y <= 0) {
				continue
			}
			xmin, xmax, ymin, ymax = math.Min(xmin, x), math.Max(xmax, x), math.Min(ymin, y), math.Max(ymax, y)
		}
	}
	if c.unitSquare {
		xmin, xmax, ymin, ymax = 0, 1, 0, 1
	}
	if c.diagonal {
		xmin, ymin = math.Min(xmin, ymin), math.Min(xmin, ymin)
		xmax, ymax = math.Max(xmax, ymax), math.Max(xmax, ymax)
	}
	if xmin > xmax { // no finite point
		xmin, xmax, ymin, ymax = 0, 1, 0, 1
	}
	ty := func(y float64) float64 { return y }
	if c.logY {
		ty = math.Log10
	}
	lo, hi := ty(ymin), ty(ymax)
	if hi == lo {
		lo, hi = lo-1, hi+1
	}
	if xmax == xmin {
		xmin, xmax = xmin-1, xmax+1
	}
	pw, ph := float64(chartW-padL-padR), float64(chartH-padT-padB)
	px := func(x float64) float64 { return float64(padL) + (x-xmin)/(xmax-xmin)*pw }
	py := func(y float64) float64 { return float64(padT) + (1-(ty(y)-lo)/(hi-lo))*ph }
	var b strings.Builder
	open(&b, c.title)
	// Axes and ticks.
	for _, t := range ticks(xmin, xmax) {
		x := px(t)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" class="grid"/>`, x, padT, x, chartH-padB)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="tick" text-anchor="middle">%s</text>`, x, chartH-padB+16, num(t))
	}
	var yticks []float64
	if c.logY {
		for e := math.Floor(lo); e <= math.Ceil(hi); e++ {
			if e >= lo-1e-9 && e <= hi+1e-9 {
				yticks = append(yticks, math.Pow(10, e))
			}
		}
		if len(yticks) < 2 {
			yticks = []float64{ymin, ymax}
		}
	} else {
		yticks = ticks(ymin, ymax)
	}
	for _, t := range yticks {
		y := py(t)
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" class="grid"/>`, padL, y, chartW-padR, y)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" class="tick" text-anchor="end">%s</text>`, padL-6, y+4, num(t))
	}
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.0f" height="%.0f" class="frame"/>`, padL, padT, pw, ph)
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="label" text-anchor="middle">%s</text>`, float64(padL)+pw/2, chartH-10, esc(c.xLabel))
	fmt.Fprintf(&b, `<text x="14" y="%.1f" class="label" text-anchor="middle" transform="rotate(-90 14 %.1f)">%s</text>`, float64(padT)+ph/2, float64(padT)+ph/2, esc(c.yLabel+map[bool]string{true: " (log scale)"}[c.logY]))
	if c.diagonal {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="chance"/>`, px(xmin), py(ymin), px(xmax), py(ymax))
	}
	for _, m := range c.markX {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" class="mark"/><text x="%.1f" y="%d" class="tick">%s</text>`,
			px(m), padT, px(m), chartH-padB, px(m)+4, padT+12, esc(c.markLabel))
	}
	for i, s := range c.series {
		color := palette[i%len(palette)]
		var pts []string
		for j, x := range s.xs {
			y := s.ys[j]
			if !finite(x) || !finite(y) || (c.logY && y <= 0) {
				continue
			}
			if s.dots {
				fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s" fill-opacity="0.7"/>`, px(x), py(y), color)
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(x), py(y)))
		}
		if len(pts) > 0 {
			dash := ""
			if s.dashed {
				dash = ` stroke-dasharray="6 3"`
			}
			fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="1.8"%s/>`, strings.Join(pts, " "), color, dash)
		}
		// The legend, top right inside the plot.
		ly := padT + 14 + 16*i
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="14" height="3" fill="%s"/><text x="%d" y="%d" class="legend">%s</text>`,
			chartW-padR-150, ly-4, color, chartW-padR-132, ly, esc(s.name))
	}
	b.WriteString("</svg>")
	return b.String()
}

// open starts an SVG with its title, which browsers and screen readers show.
func open(b *strings.Builder, title string) { openSized(b, title, chartH) }

func openSized(b *strings.Builder, title string, height int) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img"><title>%s</title>`,
		chartW, height, chartW, height, esc(title))
	fmt.Fprintf(b, `<text x="%d" y="20" class="title" text-anchor="middle">%s</text>`, chartW/2, esc(title))
}

// heatmap draws a matrix of counts: rows down, columns across, shaded by count.
func heatmap(title, rowLabel, colLabel string, labels []string, m [][]int) string {
	var b strings.Builder
	open(&b, title)
	n := len(m)
	most := 1
	for _, r := range m {
		for _, v := range r {
			most = max(most, v)
		}
	}
	size := math.Min(float64(chartW-padL-padR-40), float64(chartH-padT-padB)) / float64(n)
	x0, y0 := float64(padL+40), float64(padT)
	for r := range n {
		for c := range n {
			shade := 0.08 + 0.85*float64(m[r][c])/float64(most)
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#0072B2" fill-opacity="%.2f" stroke="#fff"/>`,
				x0+float64(c)*size, y0+float64(r)*size, size, size, shade)
			textColor := "#000"
			if shade > 0.55 {
				textColor = "#fff"
			}
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" class="cell" fill="%s">%d</text>`,
				x0+(float64(c)+0.5)*size, y0+(float64(r)+0.5)*size+4, textColor, m[r][c])
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="tick" text-anchor="end">%s</text>`, x0-6, y0+(float64(r)+0.5)*size+4, esc(labels[r]))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="tick" text-anchor="middle">%s</text>`, x0+(float64(r)+0.5)*size, y0+float64(n)*size+14, esc(labels[r]))
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="label" text-anchor="middle">%s</text>`, x0+float64(n)*size/2, chartH-10, esc(colLabel))
	fmt.Fprintf(&b, `<text x="16" y="%.1f" class="label" text-anchor="middle" transform="rotate(-90 16 %.1f)">%s</text>`, y0+float64(n)*size/2, y0+float64(n)*size/2, esc(rowLabel))
	b.WriteString("</svg>")
	return b.String()
}

// bars draws horizontal bars of values in [0, 1], one per name.
func bars(title, xLabel string, names []string, values []float64) string {
	var b strings.Builder
	const h = 28.0
	height := padT + int(h)*len(names) + 30
	openSized(&b, title, height)
	pw := float64(chartW - 180 - padR)
	for i, n := range names {
		y := float64(padT) + float64(i)*h
		fmt.Fprintf(&b, `<text x="172" y="%.1f" class="tick" text-anchor="end">%s</text>`, y+h/2+4, esc(n))
		fmt.Fprintf(&b, `<rect x="180" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, y+3, math.Max(values[i], 0)*pw, h-6, palette[0])
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="tick">%s</text>`, 184+math.Max(values[i], 0)*pw, y+h/2+4, num(values[i]))
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="label" text-anchor="middle">%s</text>`, 180+pw/2, height-8, esc(xLabel))
	b.WriteString("</svg>")
	return b.String()
}

// parallel draws one polyline per trial across an axis per param and one for the objective,
// coloured from light (worst) to dark (best).
func parallel(title string, axes []string, rows [][]float64, objective []float64, higherBetter bool) string {
	var b strings.Builder
	open(&b, title)
	n := len(axes)
	lo, hi := make([]float64, n), make([]float64, n)
	for j := range n {
		lo[j], hi[j] = math.Inf(1), math.Inf(-1)
		for _, r := range rows {
			lo[j], hi[j] = math.Min(lo[j], r[j]), math.Max(hi[j], r[j])
		}
		if hi[j] == lo[j] {
			lo[j], hi[j] = lo[j]-1, hi[j]+1
		}
	}
	omin, omax := math.Inf(1), math.Inf(-1)
	for _, o := range objective {
		omin, omax = math.Min(omin, o), math.Max(omax, o)
	}
	ph := float64(chartH - padT - padB)
	ax := func(j int) float64 {
		return float64(padL) + float64(j)*float64(chartW-padL-padR-20)/float64(max(n-1, 1))
	}
	for i, r := range rows {
		good := 0.5
		if omax > omin {
			good = (objective[i] - omin) / (omax - omin)
		}
		if !higherBetter {
			good = 1 - good
		}
		var pts []string
		for j := range n {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", ax(j), float64(padT)+(1-(r[j]-lo[j])/(hi[j]-lo[j]))*ph))
		}
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="#0072B2" stroke-opacity="%.2f" stroke-width="1.5"/>`, strings.Join(pts, " "), 0.15+0.85*good)
	}
	for j, a := range axes {
		x := ax(j)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" class="axis"/>`, x, padT, x, chartH-padB)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="tick" text-anchor="middle">%s</text>`, x, chartH-padB+16, esc(a))
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="tick" text-anchor="middle">%s</text>`, x, padT-4, num(hi[j]))
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="tick" text-anchor="middle">%s</text>`, x, chartH-padB+30, num(lo[j]))
	}
	b.WriteString("</svg>")
	return b.String()
}

// ticks returns about five round values between lo and hi.
func ticks(lo, hi float64) []float64 {
	if !(hi > lo) {
		return []float64{lo}
	}
	step := math.Pow(10, math.Floor(math.Log10((hi-lo)/5)))
	for _, m := range []float64{1, 2, 5, 10} {
		if (hi-lo)/(step*m) <= 6 {
			step *= m
			break
		}
	}
	var out []float64
	for t := math.Ceil(lo/step) * step; t <= hi+step*1e-9; t += step {
		out = append(out, math.Round(t/step)*step)
	}
	return out
}

func num(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e7 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func esc(s string) string { return html.EscapeString(s) }
