//go:build ignore

// Command generate writes reviews.csv, the synthetic sentiment corpus of the text example:
// short movie reviews assembled from templates and word lists, with negations ("was not
// good", "didn't like") and contrasts ("... but the ending was awful") whose label follows
// the clause after "but", so that word order matters. No review comes from a real person.
//
//	go run generate.go > reviews.csv
package main

import (
	"encoding/csv"
	"math/rand/v2"
	"os"
	"strings"
)

var (
	subjects   = []string{"the movie", "this film", "the plot", "the acting", "the soundtrack", "the ending", "the cast", "the script", "the cinematography", "the dialogue", "the pacing", "the story", "the director's work", "the lead actor", "the visual effects"}
	positive   = []string{"good", "great", "excellent", "wonderful", "brilliant", "enjoyable", "fun", "moving", "clever", "charming", "beautiful", "superb", "gripping", "delightful", "fantastic", "solid"}
	negative   = []string{"bad", "terrible", "awful", "boring", "dull", "weak", "poor", "predictable", "clumsy", "tedious", "bland", "messy", "dreadful", "forgettable", "painful", "lazy"}
	intensity  = []string{"", "", "", "very ", "really ", "quite ", "so ", "truly ", "pretty ", "incredibly "}
	nouns      = []string{"film", "movie", "story", "experience", "watch", "production"}
	likePos    = []string{"loved", "liked", "enjoyed", "adored", "appreciated"}
	likeNeg    = []string{"hated", "disliked", "regretted watching", "could not stand", "was bored by"}
	likeNegate = []string{"did not like", "didn't like", "did not enjoy", "didn't love", "never liked"}
	hateNegate = []string{"did not hate", "didn't dislike", "was not bored by", "never disliked"}
	fillers    = []string{"i watched it on sunday", "my friend recommended it", "it runs about two hours", "we saw it at the cinema", "it came out last year", "i went with my family", "it is based on a novel", "the theatre was full"}
)

type gen struct{ r *rand.Rand }

func (g gen) pick(xs []string) string { return xs[g.r.IntN(len(xs))] }

// clause returns a statement with sentiment pol (+1 or -1).
func (g gen) clause(pol int) string {
	adj := func(p int) string {
		if p > 0 {
			return g.pick(positive)
		}
		return g.pick(negative)
	}
	negated := g.r.IntN(3) == 0
	p := pol
	if negated {
		p = -pol // the adjective says the opposite; the negation turns it back
	}
	kind := g.r.IntN(5)
	if negated && kind == 3 {
		kind = 0 // "not a good film" would put "a" between the negation and the adjective
	}
	switch kind {
	case 0, 1:
		if negated { // the negation comes right before the adjective, as in "wasn't good"
			be := g.pick([]string{"was not", "is not", "wasn't", "isn't", "was never"})
			return g.pick(subjects) + " " + be + " " + adj(p)
		}
		be := g.pick([]string{"was", "is"})
		return g.pick(subjects) + " " + be + " " + g.pick(intensity) + adj(p)
	case 2:
		if negated && pol > 0 {
			return "i " + g.pick(hateNegate) + " " + g.pick(subjects)
		}
		if negated {
			return "i " + g.pick(likeNegate) + " " + g.pick(subjects)
		}
		if pol > 0 {
			return "i " + g.pick(likePos) + " " + g.pick(subjects)
		}
		return "i " + g.pick(likeNeg) + " " + g.pick(subjects)
	case 3:
		a := g.pick(intensity) + adj(p)
		art := "a "
		if strings.IndexAny(a[:1], "aeiou") == 0 {
			art = "an "
		}
		return art + a + " " + g.pick(nouns)
	}
	switch {
	case pol > 0 && !negated:
		return g.pick([]string{"i would recommend it", "worth the ticket", "i would watch it again"})
	case pol > 0:
		return g.pick([]string{"i can't say it was bad", "not a waste of time", "never boring"})
	case !negated:
		return g.pick([]string{"a waste of time", "i want my money back", "i walked out"})
	}
	return g.pick([]string{"i would not recommend it", "not worth the ticket", "i wouldn't watch it again"})
}

// review returns a review and its label.
func (g gen) review() (string, string) {
	pol := 1 - 2*g.r.IntN(2)
	var text string
	switch k := g.r.IntN(10); {
	case k < 4:
		text = g.clause(pol)
	case k < 6:
		text = g.clause(pol) + " and " + g.clause(pol)
	case k < 9:
		text = g.pick(fillers) + ". " + g.clause(pol)
	default: // the verdict comes after "but"
		text = g.clause(-pol) + " but " + g.clause(pol)
	}
	text = strings.ToUpper(text[:1]) + text[1:] + g.pick([]string{".", ".", "!", "..."})
	if pol > 0 {
		return text, "positive"
	}
	return text, "negative"
}

func main() {
	g := gen{rand.New(rand.NewPCG(2026, 11))}
	w := csv.NewWriter(os.Stdout)
	w.Write([]string{"text", "label"})
	seen := map[string]bool{} // no review twice, so none is in both train and test
	for len(seen) < 3000 {
		text, label := g.review()
		if !seen[text] {
			seen[text] = true
			w.Write([]string{text, label})
		}
	}
	w.Flush()
}
