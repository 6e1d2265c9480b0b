// Package suggest finds the name a user probably meant, for "did you mean" hints.
package suggest

// Closest returns the candidate nearest to s by edit distance, or "" when none is near enough
// to be a plausible typo (more than a third of the longer word would have to change).
func Closest(s string, candidates []string) string {
	if len(s) > maxSuggestLen {
		return "" // edit distance is quadratic; nobody mistypes a name this long
	}
	best, bestD := "", -1
	for _, c := range candidates {
		if len(c) > maxSuggestLen {
			continue
		}
		d := editDistance(s, c)
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	limit := max(len(s), len(best))/3 + 1
	if best == "" || bestD > limit || bestD >= max(len(s), len(best)) {
		return ""
	}
	return best
}

// maxSuggestLen bounds the names that Closest compares.
const maxSuggestLen = 200

// DidYouMean returns ` (did you mean "x"?)` for the closest candidate, or "".
func DidYouMean(s string, candidates []string) string {
	if c := Closest(s, candidates); c != "" {
		return ` (did you mean "` + c + `"?)`
	}
	return ""
}

// editDistance is the Levenshtein distance between a and b, counted in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
