package metrics

import (
	"math"
	"testing"
)

// TestFairnessByHand: two groups of four rows, labels and predictions chosen so that every
// number is easy to check; group b has no positive row, so its TPR does not exist.
func TestFairnessByHand(t *testing.T) {
	groups := []string{"a", "a", "a", "a", "b", "b", "b", "b"}
	labels := []int{1, 1, 0, 0, 0, 0, 0, 0}
	predicted := []int{1, 0, 1, 0, 1, 0, 0, 0}
	table, m := Fairness(labels, predicted, groups, 2)
	// a: selection 2/4, accuracy 2/4, TPR 1/2, FPR 1/2. b: selection 1/4, accuracy 3/4, TPR NaN, FPR 1/4.
	a, b := table[0], table[1]
	if a.Group != "a" || a.Count != 4 || a.SelectionRate != 0.5 || a.Accuracy != 0.5 || a.TPR != 0.5 || a.FPR != 0.5 {
		t.Errorf("group a: %+v", a)
	}
	if b.SelectionRate != 0.25 || b.Accuracy != 0.75 || !math.IsNaN(b.TPR) || b.FPR != 0.25 {
		t.Errorf("group b: %+v", b)
	}
	want := map[string]float64{DemographicParityDifference: 0.25, DemographicParityRatio: 0.5, EqualizedOddsDifference: 0.25}
	for k, v := range want {
		if math.Abs(m[k]-v) > 1e-12 {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
}

// TestFairnessEqualGroups: the same predictions in every group give differences 0, ratio 1;
// no row predicted positive anywhere also gives ratio 1.
func TestFairnessEqualGroups(t *testing.T) {
	_, m := Fairness([]int{1, 0, 1, 0}, []int{1, 0, 1, 0}, []string{"x", "x", "y", "y"}, 2)
	if m[DemographicParityDifference] != 0 || m[DemographicParityRatio] != 1 || m[EqualizedOddsDifference] != 0 {
		t.Errorf("%v", m)
	}
	_, m = Fairness([]int{1, 0, 1, 0}, []int{0, 0, 0, 0}, []string{"x", "x", "y", "y"}, 2)
	if m[DemographicParityRatio] != 1 {
		t.Errorf("no positive predictions: %v", m)
	}
}

// TestFairnessThreeClasses: one-vs-rest, the largest difference over the classes.
func TestFairnessThreeClasses(t *testing.T) {
	groups := []string{"a", "a", "b", "b"}
	_, m := Fairness([]int{0, 1, 2, 2}, []int{2, 2, 2, 2}, groups, 3)
	// Class 2 is selected for every row of both groups: 0. Classes 0 and 1: never selected: 0.
	if m[DemographicParityDifference] != 0 {
		t.Errorf("%v", m)
	}
	_, m = Fairness([]int{0, 1, 2, 2}, []int{0, 0, 2, 2}, groups, 3)
	// Class 0: a selects 1, b selects 0 → difference 1 and ratio 0.
	if m[DemographicParityDifference] != 1 || m[DemographicParityRatio] != 0 {
		t.Errorf("%v", m)
	}
}
