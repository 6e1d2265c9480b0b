package search

import (
	"fmt"
	"math"
	"sort"
)

// ASHA is the asynchronous successive halving scheduler of Li et al. (2020). Trials start at
// the first rung's budget; a trial whose loss at rung k is among the best 1/Eta of the trials
// that finished rung k may be promoted to rung k+1, whose budget is Eta times larger, up to
// the largest. Promotions are decided whenever a worker is free, without waiting for a rung
// to fill, so no worker idles while a rung waits for stragglers.
type ASHA struct {
	Rungs []int   // budgets, increasing; the last is the largest
	Eta   float64 // the reduction factor

	results  [][]rungResult // rung -> finished trials, best first once sorted[rung]
	sorted   []bool
	promoted []map[int]bool // rung -> trials promoted out of it
}

type rungResult struct {
	trial int
	loss  float64
}

// NewASHA returns a scheduler whose budgets are lo, lo*eta, lo*eta^2, ... and finally hi.
func NewASHA(lo, hi int, eta float64) (*ASHA, error) {
	if lo < 1 || hi < lo {
		return nil, fmt.Errorf("asha needs 1 <= min <= max, not min %d, max %d", lo, hi)
	}
	if !(eta > 1) {
		return nil, fmt.Errorf("asha needs eta > 1, not %v", eta)
	}
	var rungs []int
	for r := float64(lo); ; r *= eta {
		b := int(math.Round(r))
		if b >= hi {
			rungs = append(rungs, hi)
			break
		}
		if len(rungs) == 0 || b > rungs[len(rungs)-1] {
			rungs = append(rungs, b)
		}
	}
	return newASHA(rungs, eta), nil
}

func newASHA(rungs []int, eta float64) *ASHA {
	a := &ASHA{Rungs: rungs, Eta: eta}
	a.results = make([][]rungResult, len(a.Rungs))
	a.sorted = make([]bool, len(a.Rungs))
	a.promoted = make([]map[int]bool, len(a.Rungs))
	for k := range a.promoted {
		a.promoted[k] = map[int]bool{}
	}
	return a
}

// Fresh returns a scheduler with a's rungs and eta and no results yet.
func (a *ASHA) Fresh() *ASHA { return newASHA(a.Rungs, a.Eta) }

// Report records that trial finished rung with loss (+Inf for a failed trial).
func (a *ASHA) Report(trial, rung int, loss float64) {
	if math.IsNaN(loss) {
		loss = math.Inf(1)
	}
	a.results[rung] = append(a.results[rung], rungResult{trial, loss})
	a.sorted[rung] = false
}

// Promote returns a trial to promote and the rung it goes to, preferring the highest rung:
// the best trial not yet promoted among the top floor(n/Eta) of the n that finished its rung.
// It marks the trial promoted.
func (a *ASHA) Promote() (trial, rung int, ok bool) {
	for k := len(a.Rungs) - 2; k >= 0; k-- {
		rs := a.ranked(k)
		for _, r := range rs[:int(float64(len(rs))/a.Eta)] {
			if math.IsInf(r.loss, 1) {
				break
			}
			if !a.promoted[k][r.trial] {
				a.promoted[k][r.trial] = true
				return r.trial, k + 1, true
			}
		}
	}
	return 0, 0, false
}

// Top returns the best floor(n/Eta) of the n trials that finished rung k, best first; ties
// go to the earlier trial, and failed trials are never among them.
func (a *ASHA) Top(k int) []int {
	rs := a.ranked(k)
	n := int(float64(len(rs)) / a.Eta)
	var top []int
	for _, r := range rs[:n] {
		if !math.IsInf(r.loss, 1) {
			top = append(top, r.trial)
		}
	}
	return top
}

// ranked sorts rung k's results, best first, when new ones came in since the last time.
func (a *ASHA) ranked(k int) []rungResult {
	rs := a.results[k]
	if !a.sorted[k] {
		sort.SliceStable(rs, func(i, j int) bool {
			if rs[i].loss != rs[j].loss {
				return rs[i].loss < rs[j].loss
			}
			return rs[i].trial < rs[j].trial
		})
		a.sorted[k] = true
	}
	return rs
}
