package report

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestImportance: a param that decides the objective explains all its variance; one that
// does not, little.
func TestImportance(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	var rows [][]float64
	var ys []float64
	for i := range 200 {
		decisive, noise := float64(i%5), rng.Float64()
		rows = append(rows, []float64{decisive, noise})
		ys = append(ys, decisive*2)
	}
	imp := importance(rows, ys)
	if math.Abs(imp[0]-1) > 1e-9 || imp[1] > 0.1 {
		t.Errorf("importance %v, want [1, ~0]", imp)
	}
}

func TestRegressionCharts(t *testing.T) {
	p := &page{}
	out := p.predictionCharts("eval", []byte("row,split,true,prediction\n0,test,1.5,1.4\n1,test,2,2.2\n2,test,-1,-0.5\n"))
	for _, want := range []string{"<title>predicted against true, eval</title>", "<title>residuals, eval</title>", "<circle"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %s", want)
		}
	}
	if p.charts != 2 {
		t.Errorf("%d charts", p.charts)
	}
}

// TestTicks: round values covering the range.
func TestTicks(t *testing.T) {
	got := ticks(0.03, 0.97)
	if len(got) < 3 || got[0] < 0.03 || got[len(got)-1] > 0.97 {
		t.Errorf("ticks %v", got)
	}
}
