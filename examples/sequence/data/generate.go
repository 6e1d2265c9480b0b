//go:build ignore

// Command generate writes sequences.csv, the data of the sequence example: rows of 12 symbols
// from 1 to 4 (columns x0..x11) and a label that says whether the symbol 1 is immediately
// followed by a 2 somewhere in the row. The rows come in pairs with the same symbols in two
// orders, one with the pattern and one without, so the count of each symbol says nothing
// about the label: only the order does.
//
//	go run generate.go > sequences.csv
package main

import (
	"encoding/csv"
	"math/rand/v2"
	"os"
	"strconv"
)

const (
	length  = 12
	symbols = 4
	pairs   = 2000
	tries   = 200 // shuffles tried for each label before the symbol set is drawn again
)

// hasPattern reports whether 1 is immediately followed by 2.
func hasPattern(s []int) bool {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == 1 && s[i+1] == 2 {
			return true
		}
	}
	return false
}

// arrange shuffles s until hasPattern(s) == want; it reports whether it got there.
func arrange(r *rand.Rand, s []int, want bool) bool {
	for range tries {
		r.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
		if hasPattern(s) == want {
			return true
		}
	}
	return false
}

func main() {
	r := rand.New(rand.NewPCG(2026, 6))
	w := csv.NewWriter(os.Stdout)
	header := make([]string, 0, length+1)
	for i := range length {
		header = append(header, "x"+strconv.Itoa(i))
	}
	w.Write(append(header, "label"))
	for made := 0; made < pairs; {
		set := make([]int, length)
		for i := range set {
			set[i] = 1 + r.IntN(symbols)
		}
		pos, neg := append([]int(nil), set...), append([]int(nil), set...)
		if !arrange(r, pos, true) || !arrange(r, neg, false) {
			continue
		}
		// The pair's order in the file alternates so that the file has no pattern either.
		first, second := pos, neg
		labels := [2]string{"1", "0"}
		if made%2 == 1 {
			first, second = neg, pos
			labels = [2]string{"0", "1"}
		}
		for k, s := range [][]int{first, second} {
			rec := make([]string, 0, length+1)
			for _, v := range s {
				rec = append(rec, strconv.Itoa(v))
			}
			w.Write(append(rec, labels[k]))
		}
		made++
	}
	w.Flush()
}
