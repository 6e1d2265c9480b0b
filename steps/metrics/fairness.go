package metrics

import (
	"math"
	"slices"
)

// Fairness metric names, as Fairlearn calls them.
const (
	DemographicParityDifference = "demographic_parity_difference"
	DemographicParityRatio      = "demographic_parity_ratio"
	EqualizedOddsDifference     = "equalized_odds_difference"
)

// GroupStats are one group's numbers: its rows, how many were predicted positive, accuracy,
// and true and false positive rates (NaN when the group has no positive, or no negative, row).
type GroupStats struct {
	Group                             string
	Count                             int
	SelectionRate, Accuracy, TPR, FPR float64
}

// Fairness compares groups of rows, as Fairlearn's metrics do: the selection rate (share of
// rows predicted positive), accuracy and true and false positive rates of each group, and
// between the groups demographic_parity_difference (largest minus smallest selection rate),
// demographic_parity_ratio (smallest over largest; 1 when every rate is 0) and
// equalized_odds_difference (the larger of the TPR and the FPR differences; a group with no
// positive or no negative row has no TPR or FPR and is left out of that difference, as pandas'
// min and max skip NaN). With k > 2 classes each class is the positive one in turn
// (one-vs-rest) and each metric is the largest (the ratio the smallest) over the classes; the
// per-group table returned is then that of the last class.
func Fairness(labels, predicted []int, groups []string, classes int) ([]GroupStats, map[string]float64) {
	names := slices.Compact(slices.Sorted(slices.Values(groups)))
	out := map[string]float64{DemographicParityDifference: 0, DemographicParityRatio: 1, EqualizedOddsDifference: 0}
	var table []GroupStats
	positives := []int{1}
	if classes > 2 {
		positives = make([]int, classes)
		for c := range positives {
			positives[c] = c
		}
	}
	for _, pos := range positives {
		stats := make([]GroupStats, len(names))
		for i, g := range names {
			var n, sel, correct, tp, p, fp, neg int
			for r, gr := range groups {
				if gr != g {
					continue
				}
				n++
				isPos, predPos := labels[r] == pos, predicted[r] == pos
				if predPos {
					sel++
				}
				if labels[r] == predicted[r] {
					correct++
				}
				if isPos {
					p++
					if predPos {
						tp++
					}
				} else {
					neg++
					if predPos {
						fp++
					}
				}
			}
			stats[i] = GroupStats{Group: g, Count: n, SelectionRate: rate(sel, n), Accuracy: rate(correct, n), TPR: rate(tp, p), FPR: rate(fp, neg)}
		}
		lo, hi := spread(stats, func(s GroupStats) float64 { return s.SelectionRate })
		dpr := 1.0
		if hi > 0 {
			dpr = lo / hi
		}
		tlo, thi := spread(stats, func(s GroupStats) float64 { return s.TPR })
		flo, fhi := spread(stats, func(s GroupStats) float64 { return s.FPR })
		out[DemographicParityDifference] = math.Max(out[DemographicParityDifference], hi-lo)
		out[DemographicParityRatio] = math.Min(out[DemographicParityRatio], dpr)
		out[EqualizedOddsDifference] = math.Max(out[EqualizedOddsDifference], math.Max(thi-tlo, fhi-flo))
		table = stats
	}
	return table, out
}

// rate is a/b, NaN when b is 0: a rate that does not exist for the group.
func rate(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

// spread returns the smallest and largest value over the groups, NaN skipped (0, 0 when every
// value is NaN).
func spread(stats []GroupStats, f func(GroupStats) float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, s := range stats {
		if v := f(s); !math.IsNaN(v) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if lo > hi {
		return 0, 0
	}
	return lo, hi
}
