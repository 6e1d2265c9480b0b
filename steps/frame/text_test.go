package frame

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestWordAndCharTokens(t *testing.T) {
	words := wordTokens("Don't LIKE it,  really!! 'Quoted' rock'n'roll café 42x", nil)
	want := []string{"don't", "like", "it", "really", "quoted", "rock'n'roll", "café", "42x"}
	if !reflect.DeepEqual(words, want) {
		t.Errorf("word tokens %q, want %q", words, want)
	}
	chars := charTokens("  Ab \t\n c ", nil)
	if want := []string{"a", "b", " ", "c"}; !reflect.DeepEqual(chars, want) {
		t.Errorf("char tokens %q, want %q", chars, want)
	}
	bi := TextOptions{Level: "word", Output: "counts", NGrams: 2}.tokens("not good at all", nil)
	if want := []string{"not", "good", "at", "all", "not good", "good at", "at all"}; !reflect.DeepEqual(bi, want) {
		t.Errorf("bigram tokens %q, want %q", bi, want)
	}
}

// reviews is a frame whose last two rows are Test; "awful" appears only there.
func reviews(t *testing.T) *Frame {
	t.Helper()
	f := mk(t, "text,label\ngood movie,1\ngood good plot,1\nbad movie,0\nBad plot,0\nawful movie,0\nawful,0\n", "label")
	f.Splits[4], f.Splits[5] = Test, Test
	return f
}

func idsOf(f *Frame, col string, length, row int) []float64 {
	out := make([]float64, length)
	for k := range out {
		out[k] = f.Column(col + "_" + string(rune('0'+k))).Num[row]
	}
	return out
}

// TestTokenIDsHandComputed checks ids against the vocabulary counted by hand: on the Train
// rows good 3, bad 2, movie 2, plot 2 (ties in byte order), so good=2 bad=3 movie=4 plot=5.
func TestTokenIDsHandComputed(t *testing.T) {
	for _, tc := range []struct {
		pad  string
		want [][]float64
	}{
		{"post", [][]float64{{2, 4, 0}, {2, 2, 5}, {3, 4, 0}, {3, 5, 0}, {1, 4, 0}, {1, 0, 0}}},
		{"pre", [][]float64{{0, 2, 4}, {2, 2, 5}, {0, 3, 4}, {0, 3, 5}, {0, 1, 4}, {0, 0, 1}}},
	} {
		f := reviews(t)
		if err := MarkText(f, "text", TextOptions{Level: "word", Length: 3, Pad: tc.pad}); err != nil {
			t.Fatal(err)
		}
		if err := f.tokenizeText(); err != nil {
			t.Fatal(err)
		}
		if got := f.Names(); !reflect.DeepEqual(got, []string{"text_0", "text_1", "text_2", "label"}) {
			t.Fatalf("columns %v", got)
		}
		for r, want := range tc.want {
			if got := idsOf(f, "text", 3, r); !reflect.DeepEqual(got, want) {
				t.Errorf("pad %s row %d: ids %v, want %v", tc.pad, r, got, want)
			}
		}
		if got := f.TextColumns(); !reflect.DeepEqual(got, []string{"text"}) {
			t.Errorf("text columns %v", got)
		}
		if v, ok := f.Vocab("text"); !ok || v != 6 {
			t.Errorf("vocab %d %v, want 6 (pad, oov and 4 words)", v, ok)
		}
	}
}

func TestTruncationKeepsFirstOrLastTokens(t *testing.T) {
	for pad, want := range map[string][]float64{"post": {2, 2}, "pre": {2, 5}} {
		f := reviews(t)
		MarkText(f, "text", TextOptions{Level: "word", Length: 2, Pad: pad})
		if err := f.tokenizeText(); err != nil {
			t.Fatal(err)
		}
		if got := idsOf(f, "text", 2, 1); !reflect.DeepEqual(got, want) {
			t.Errorf("pad %s: %v, want %v", pad, got, want)
		}
	}
}

// TestVocabularyIsFittedOnTrainOnly runs the real split: every vocabulary word occurs in a
// Train row, and a word that only Test rows have is OOV.
func TestVocabularyIsFittedOnTrainOnly(t *testing.T) {
	var b strings.Builder
	b.WriteString("text,label\n")
	for i := range 40 {
		b.WriteString("common word" + strings.Repeat(" w", i%3) + " uniq" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + ",1\n")
		b.WriteString("other text,0\n")
	}
	f := mk(t, b.String(), "label")
	orig := f.Clone()
	if err := MarkText(f, "text", TextOptions{Level: "word", Length: 4}); err != nil {
		t.Fatal(err)
	}
	if err := (SplitData{Test: 0.3, Seed: 3}).Apply(f); err != nil {
		t.Fatal(err)
	}
	tr := f.Transforms[len(f.Transforms)-1]
	if tr.Op != "tokenize" {
		t.Fatalf("split recorded %v, want a tokenize transform", tr)
	}
	inTrain := map[string]bool{}
	for i, s := range f.Splits {
		if s == Train {
			for _, w := range wordTokens(orig.Column("text").Str[i], nil) {
				inTrain[w] = true
			}
		}
	}
	for _, w := range tr.Levels {
		if !inTrain[w] {
			t.Errorf("vocabulary word %q is in no train row", w)
		}
	}
	testOnly := 0
	for i, s := range f.Splits {
		if s != Test {
			continue
		}
		words := wordTokens(orig.Column("text").Str[i], nil)
		last := words[len(words)-1]
		if inTrain[last] || len(words) > 4 {
			continue
		}
		testOnly++
		if id := f.Column("text_" + string(rune('0'+len(words)-1))).Num[i]; id != OOVID {
			t.Errorf("row %d: test-only word %q has id %v, want OOV", i, last, id)
		}
	}
	if testOnly == 0 {
		t.Fatal("the split left no test-only word to check")
	}
}

func TestVocabCapAndMinCount(t *testing.T) {
	for _, o := range []TextOptions{{Level: "word", Length: 3, Vocab: 4}, {Level: "word", Length: 3, MinCount: 3}} {
		f := reviews(t)
		MarkText(f, "text", o)
		f.tokenizeText()
		want := []string{"good", "bad"}
		if o.MinCount == 3 {
			want = want[:1]
		}
		if got := f.Transforms[0].Levels; !reflect.DeepEqual(got, want) {
			t.Errorf("%+v: vocabulary %q, want %q", o, got, want)
		}
		if got := idsOf(f, "text", 3, 0); got[1] != OOVID {
			t.Errorf("%+v: movie has id %v, want OOV", o, got[1])
		}
	}
}

func TestCountsOutput(t *testing.T) {
	f := reviews(t)
	if err := MarkText(f, "text", TextOptions{Level: "word", Output: "counts", Vocab: 5}); err != nil {
		t.Fatal(err)
	}
	f.tokenizeText()
	names := []string{"text[good]", "text[bad]", "text[movie]", "text[#oov]", "label"}
	if got := f.Names(); !reflect.DeepEqual(got, names) {
		t.Fatalf("columns %v, want %v", got, names)
	}
	want := [][]float64{{1, 0, 1, 0}, {2, 0, 0, 1}, {0, 1, 1, 0}, {0, 1, 0, 1}, {0, 0, 1, 1}, {0, 0, 0, 1}}
	for r, w := range want {
		for k, v := range w {
			if got := f.Columns[k].Num[r]; got != v {
				t.Errorf("row %d %s = %v, want %v", r, names[k], got, v)
			}
		}
	}
}

func TestCharLevelIDs(t *testing.T) {
	f := mk(t, "text,label\nab a,1\nb,0\n", "label")
	MarkText(f, "text", TextOptions{Level: "char", Length: 5})
	f.tokenizeText()
	// a 2, b 2, " " 1: a=2 b=3 " "=4.
	if got := idsOf(f, "text", 5, 0); !reflect.DeepEqual(got, []float64{2, 3, 4, 2, 0}) {
		t.Errorf("ids %v", got)
	}
}

// TestReplayTokenisesNewText checks that prediction data gets the training vocabulary.
func TestReplayTokenisesNewText(t *testing.T) {
	f := reviews(t)
	MarkText(f, "text", TextOptions{Level: "word", Length: 3})
	f.tokenizeText()
	g := mk(t, "text,label\nawful plot,0\ngood movie,1\n", "label")
	if err := Replay(g, f.Transforms); err != nil {
		t.Fatal(err)
	}
	if got := idsOf(g, "text", 3, 0); !reflect.DeepEqual(got, []float64{1, 5, 0}) {
		t.Errorf("replayed ids %v", got)
	}
	if !reflect.DeepEqual(idsOf(g, "text", 3, 1), idsOf(f, "text", 3, 0)) {
		t.Error("the same text got different ids on replay")
	}
}

// TestPendingTextSurvivesWriteAndMatrix writes a marked frame, reads it back and checks
// that the matrix tokenises it (every row Train) and that the bytes are deterministic.
func TestPendingTextSurvivesWriteAndMatrix(t *testing.T) {
	f := mk(t, "text,x,label\ngood movie,1,1\nbad movie,2,0\n", "label")
	MarkText(f, "text", TextOptions{Level: "word", Length: 2})
	var a, b bytes.Buffer
	f.WriteTo(&a)
	f.Clone().WriteTo(&b)
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("equal frames wrote different bytes")
	}
	g, err := ReadFrame(&a)
	if err != nil {
		t.Fatal(err)
	}
	if c := g.Column("text"); c.TextOpts == nil || c.TextOpts.Length != 2 {
		t.Fatalf("text options lost: %+v", c.TextOpts)
	}
	if got := g.FeatureNames(); !reflect.DeepEqual(got, []string{"text_0", "text_1", "x"}) {
		t.Errorf("feature names %v", got)
	}
	X, _, rows, err := g.Matrix(Train)
	if err != nil {
		t.Fatal(err)
	}
	// movie 2, bad 1, good 1: movie=2 bad=3 good=4.
	if want := []float32{4, 2, 1, 3, 2, 2}; rows != 2 || !reflect.DeepEqual(X, want) {
		t.Errorf("X %v, want %v", X, want)
	}
	if g.Column("text") == nil {
		t.Error("Matrix changed the frame")
	}
	if got := g.TextColumns(); !reflect.DeepEqual(got, []string{"text"}) {
		t.Errorf("text columns of a pending frame %v", got)
	}
	if _, ok := g.Vocab("x"); ok {
		t.Error("x has a vocabulary")
	}
	if v, _ := g.Vocab("text"); v != 5 {
		t.Errorf("vocab of a pending column %d, want 5", v)
	}
}

// TestTokenColumnsAreNotMeasurements checks that the fitted steps leave token ids alone
// and that encode and impute leave a pending text column alone.
func TestTokenColumnsAreNotMeasurements(t *testing.T) {
	f := mk(t, "text,x,label\ngood movie,1,1\n,2,0\nbad,30,0\ngood,4,1\n", "label")
	MarkText(f, "text", TextOptions{Level: "word", Length: 2})
	for _, s := range []Step{Encode{}, Impute{Strategy: "most_frequent"}} {
		if err := s.Apply(f); err != nil {
			t.Fatal(err)
		}
	}
	if c := f.Column("text"); c == nil || c.Str[1] != "" {
		t.Fatal("encode or impute changed the text column")
	}
	if err := (Encode{Columns: []string{"text"}}).Apply(f); err == nil {
		t.Error("encoding a text column explicitly gave no error")
	}
	f.tokenizeText()
	before := f.Clone()
	cols, _ := f.numericColumns("outliers", nil)
	if len(cols) != 1 || cols[0].Name != "x" {
		t.Errorf("outliers would check %d columns, want x only", len(cols))
	}
	for _, s := range []Step{Normalize{Method: "zscore"}, Augment{NoiseStd: 1, Seed: 1}} {
		if err := s.Apply(f); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"text_0", "text_1"} {
		c := f.Column(name)
		if !c.Token {
			t.Errorf("%s is not marked Token", name)
		}
		for i, v := range c.Num {
			if v != before.Column(name).Num[i%before.Rows()] {
				t.Fatalf("%s row %d changed from %v to %v", name, i, before.Column(name).Num[i%before.Rows()], v)
			}
		}
	}
	if f.Column("x").Num[0] == 1 {
		t.Error("normalize skipped the measurement column too")
	}
}

func TestMarkTextErrors(t *testing.T) {
	f := mk(t, "text,x,label\ngood,1,a\nbad,2,b\n", "label")
	for name, want := range map[string]string{"nope": "no such column", "label": "target", "x": "number"} {
		err := MarkText(f, name, TextOptions{Level: "word", Length: 2})
		var de *DataError
		if !errors.As(err, &de) || de.Column != name || !strings.Contains(err.Error(), want) {
			t.Errorf("MarkText(%q): %v, want a DataError naming the column about %q", name, err, want)
		}
	}
	for opt, o := range map[string]TextOptions{
		"level":     {Level: "sentence", Length: 2},
		"length":    {Level: "word"},
		"vocab":     {Level: "word", Length: 2, Vocab: 2},
		"output":    {Level: "word", Output: "tfidf"},
		"pad":       {Level: "word", Length: 2, Pad: "left"},
		"ngrams":    {Level: "word", Length: 2, NGrams: 2},
		"min_count": {Level: "word", Length: 2, MinCount: -1},
	} {
		var oe *OptionError
		if err := o.Check(); !errors.As(err, &oe) || oe.Option != opt {
			t.Errorf("%+v: %v, want an error about %s", o, err, opt)
		}
	}
}

func TestTokenisingOntoAnExistingColumnFails(t *testing.T) {
	f := mk(t, "text,text_1,label\ngood,1,a\nbad,2,b\n", "label")
	MarkText(f, "text", TextOptions{Level: "word", Length: 2})
	if err := f.tokenizeText(); err == nil || !strings.Contains(err.Error(), "text_1") {
		t.Errorf("got %v, want an error naming text_1", err)
	}
}

func BenchmarkTokenizeWords(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("text,label\n")
	for i := range 2000 {
		sb.WriteString("the plot was not very good but the acting was great and i liked it " + string(rune('a'+i%26)) + "," + string(rune('0'+i%2)) + "\n")
	}
	f, err := readCSV("b.csv", []byte(sb.String()), ReadOptions{Target: "label"})
	if err != nil {
		b.Fatal(err)
	}
	MarkText(f, "text", TextOptions{Level: "word", Length: 32})
	b.ReportAllocs()
	for b.Loop() {
		g := f.Clone()
		if err := g.tokenizeText(); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzTokens checks that any text tokenises without a panic into non-empty tokens that
// hold no white space (words) or are single characters (chars).
func FuzzTokens(f *testing.F) {
	for _, s := range []string{"Don't stop", "rock’n’roll'", "'", "a\u2019", "\xff\xfe ok", "  ", "İstanbul"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, w := range wordTokens(s, nil) {
			if w == "" || strings.ContainsAny(w, " \t\n") {
				t.Fatalf("%q: bad word %q", s, w)
			}
		}
		for _, c := range charTokens(s, nil) {
			if c == "" || utf8.RuneCountInString(c) != 1 {
				t.Fatalf("%q: bad char token %q", s, c)
			}
		}
	})
}
