package frame

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Token ids of a tokenised text column. Vocabulary entry k has id k+2.
const (
	// PadID fills a row's ids after (or before) its tokens.
	PadID = 0
	// OOVID stands for a token that is not in the vocabulary.
	OOVID = 1
	// reservedIDs counts PadID and OOVID.
	reservedIDs = 2
)

// oovColumn is the suffix of the count column of out-of-vocabulary tokens;
// '#' never occurs in a word token and "#oov" is not one character.
const oovColumn = "[#oov]"

// TextOptions say how a text column becomes numbers. A column marked with
// MarkText keeps its text until the rows are split (SplitData), so that the
// vocabulary is fitted on the Train rows only; a frame never split is
// tokenised when it is turned into a matrix, every row being Train then.
type TextOptions struct {
	// Level is "word" (lower-cased runs of letters and digits, apostrophes
	// inside a word kept) or "char" (lower-cased characters, runs of white
	// space read as one space).
	Level string `json:"level"`
	// Output is "ids" (default): Length columns "<col>_0".."<col>_{Length-1}"
	// of token ids; or "counts": one column "<col>[token]" per vocabulary
	// token holding its count in the row, and "<col>[#oov]" counting the rest.
	Output string `json:"output,omitempty"`
	// Length is the number of ids per row (ids output): longer texts are
	// truncated, shorter ones padded with PadID.
	Length int `json:"length,omitempty"`
	// Pad is "post" (default: pad and truncate at the end, keeping the first
	// tokens) or "pre" (at the start, keeping the last tokens, which a
	// recurrent layer reads last).
	Pad string `json:"pad,omitempty"`
	// Vocab is the largest vocabulary size, PadID and OOVID included: the
	// Vocab-2 most frequent tokens are kept. 0 keeps every token.
	Vocab int `json:"vocab,omitempty"`
	// MinCount drops tokens seen fewer times in the Train rows (default 1).
	MinCount int `json:"min_count,omitempty"`
	// NGrams, with counts output, also counts the runs of 2..NGrams
	// consecutive words (so "not good" is a token of its own). Default 1.
	NGrams int `json:"ngrams,omitempty"`
}

// OptionError is an option of TextOptions out of range.
type OptionError struct {
	// Option is the option's manifest key: level, output, length, pad,
	// vocab, min_count or ngrams.
	Option string
	Msg    string
}

// Error formats the error as "option: message".
func (e *OptionError) Error() string { return e.Option + ": " + e.Msg }

// Check returns an *OptionError for the first option out of range.
func (o TextOptions) Check() error {
	bad := func(option, format string, args ...any) error {
		return &OptionError{Option: option, Msg: fmt.Sprintf(format, args...)}
	}
	switch {
	case o.Level != "word" && o.Level != "char":
		return bad("level", "%q is not word or char", o.Level)
	case o.Output != "" && o.Output != "ids" && o.Output != "counts":
		return bad("output", "%q is not ids or counts", o.Output)
	case o.Pad != "" && o.Pad != "post" && o.Pad != "pre":
		return bad("pad", "%q is not post or pre", o.Pad)
	case o.counts() && o.Length != 0:
		return bad("length", "counts output has one column per token; length applies to ids output")
	case !o.counts() && o.Length < 1:
		return bad("length", "ids output needs a length of at least 1, got %d", o.Length)
	case o.Vocab != 0 && o.Vocab < reservedIDs+1:
		return bad("vocab", "%d leaves no room for a token beside padding and OOV (use at least 3, or 0 for all)", o.Vocab)
	case o.MinCount < 0:
		return bad("min_count", "%d is negative", o.MinCount)
	case o.NGrams < 0:
		return bad("ngrams", "%d is negative", o.NGrams)
	case o.NGrams > 1 && (!o.counts() || o.Level != "word"):
		return bad("ngrams", "n-grams need level word and output counts")
	}
	return nil
}

func (o TextOptions) counts() bool { return o.Output == "counts" }

// MarkText marks the categorical feature column name as text to tokenise
// with o. A *DataError names the column when it is missing, the target or
// numeric.
func MarkText(f *Frame, name string, o TextOptions) error {
	if err := o.Check(); err != nil {
		return err
	}
	c := f.Column(name)
	switch {
	case c == nil:
		return &DataError{Column: name, Err: fmt.Errorf("text: no such column (columns: %s)", strings.Join(f.Names(), ", "))}
	case name == f.Target:
		return &DataError{Column: name, Err: errors.New("text: this is the target column")}
	case c.Kind != Categorical:
		return &DataError{Column: name, Err: errors.New("text: every value is a number, so this is not a text column")}
	}
	c.TextOpts = &o
	return nil
}

// Vocab returns the vocabulary size of text column name, PadID and OOVID
// included, which is what an embedding layer needs as its input size. A
// column not tokenised yet is fitted on the Train rows as it would be.
func (f *Frame) Vocab(name string) (int, bool) {
	for i := len(f.Transforms) - 1; i >= 0; i-- {
		if t := f.Transforms[i]; t.Op == "tokenize" && t.Column == name {
			return len(t.Levels) + reservedIDs, true
		}
	}
	c := f.Column(name)
	if c == nil || c.TextOpts == nil {
		return 0, false
	}
	return len(fitVocab(c, f.trainRows(), *c.TextOpts)) + reservedIDs, true
}

// TextColumns returns the text columns, in order: those still holding text
// and, by the name they had, those already tokenised. Vocab gives the
// vocabulary size of each.
func (f *Frame) TextColumns() []string {
	var names []string
	for _, t := range f.Transforms {
		if t.Op == "tokenize" {
			names = append(names, t.Column)
		}
	}
	for _, c := range f.Columns {
		if c.TextOpts != nil {
			names = append(names, c.Name)
		}
	}
	return names
}

// pendingText reports whether a marked text column still holds text.
func (f *Frame) pendingText() bool {
	for _, c := range f.Columns {
		if c.TextOpts != nil {
			return true
		}
	}
	return false
}

// tokenizeText fits the vocabulary of every marked text column on the Train
// rows, replaces the column by its token columns and records the transform.
func (f *Frame) tokenizeText() error {
	var names []string
	for _, c := range f.Columns {
		if c.TextOpts != nil {
			names = append(names, c.Name)
		}
	}
	train := f.trainRows()
	for _, name := range names {
		c := f.Column(name)
		vocab := fitVocab(c, train, *c.TextOpts)
		opts := *c.TextOpts
		if err := f.record(Transform{Op: "tokenize", Column: name, Levels: vocab, Text: &opts}); err != nil {
			return fmt.Errorf("tokenize: %w", err)
		}
	}
	return nil
}

// tokenized returns f, or when a marked text column is still text a copy
// with every such column tokenised (the view a model gets of the frame).
func (f *Frame) tokenized() (*Frame, error) {
	if !f.pendingText() {
		return f, nil
	}
	g := f.Clone()
	return g, g.tokenizeText()
}

// fitVocab returns the tokens of the rows of c kept by o, most frequent
// first and equal counts in byte order, so that the ids never depend on
// map order.
func fitVocab(c *Column, rows []int, o TextOptions) []string {
	counts := map[string]int{}
	var buf []string
	for _, r := range rows {
		buf = o.tokens(c.Str[r], buf[:0])
		for _, t := range buf {
			counts[t]++
		}
	}
	minCount := max(o.MinCount, 1)
	vocab := make([]string, 0, len(counts))
	for t, n := range counts {
		if n >= minCount {
			vocab = append(vocab, t)
		}
	}
	sort.Slice(vocab, func(i, j int) bool {
		ni, nj := counts[vocab[i]], counts[vocab[j]]
		return ni > nj || ni == nj && vocab[i] < vocab[j]
	})
	if o.Vocab > 0 && len(vocab) > o.Vocab-reservedIDs {
		vocab = vocab[:o.Vocab-reservedIDs]
	}
	return vocab
}

// tokens appends the tokens of s to buf.
func (o TextOptions) tokens(s string, buf []string) []string {
	if o.Level == "char" {
		return charTokens(s, buf)
	}
	start := len(buf)
	buf = wordTokens(s, buf)
	words := buf[start:]
	for n := 2; n <= o.NGrams; n++ {
		for i := 0; i+n <= len(words); i++ {
			buf = append(buf, strings.Join(words[i:i+n], " "))
		}
		words = buf[start : start+len(words)] // append may have moved buf
	}
	return buf
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || 'A' <= r && r <= 'Z'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

// wordTokens appends the lower-cased words of s: runs of letters, digits
// and combining marks, with an apostrophe between two letters ("don't")
// kept as '. The words are substrings of the lower-cased s, so that
// tokenising allocates per text, not per word.
func wordTokens(s string, buf []string) []string {
	s = strings.ToLower(s)
	if strings.ContainsRune(s, '\u2019') {
		s = strings.ReplaceAll(s, "\u2019", "'")
	}
	start := -1
	for i, r := range s {
		switch {
		case isWordRune(r):
			if start < 0 {
				start = i
			}
		case r == '\'' && start >= 0 && nextIsLetter(s[i+1:]):
		default:
			if start >= 0 {
				buf = append(buf, s[start:i])
				start = -1
			}
		}
	}
	if start >= 0 {
		buf = append(buf, s[start:])
	}
	return buf
}

func nextIsLetter(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsLetter(r)
}

// charTokens appends the lower-cased characters of s, with leading and
// trailing space dropped and each inner run of white space one " ".
func charTokens(s string, buf []string) []string {
	space := false
	for _, r := range strings.ToLower(strings.TrimSpace(s)) {
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		if space {
			buf = append(buf, " ")
			space = false
		}
		buf = append(buf, string(r))
	}
	return buf
}

// tokenize replaces text column c, at its place, by its token columns for
// the given vocabulary. A missing text has no tokens.
func (f *Frame) tokenize(c *Column, vocab []string, o TextOptions) error {
	if c.Kind != Categorical {
		return fmt.Errorf("column %q is numeric, not text", c.Name)
	}
	ids := make(map[string]int, len(vocab))
	for k, t := range vocab {
		ids[t] = k + reservedIDs
	}
	var cols []*Column
	if o.counts() {
		cols = countColumns(c, vocab, ids, o)
	} else {
		cols = idColumns(c, ids, o)
	}
	for _, d := range cols {
		if d.Name != c.Name && f.Column(d.Name) != nil {
			return fmt.Errorf("tokenising %q makes column %q, which already exists", c.Name, d.Name)
		}
	}
	at := f.columnIndex(c.Name)
	rest := append(cols, f.Columns[at+1:]...)
	f.Columns = append(f.Columns[:at], rest...)
	return nil
}

func newTokenColumns(names []string, rows int) []*Column {
	cols := make([]*Column, len(names))
	for k, name := range names {
		cols[k] = &Column{Name: name, Kind: Numeric, Num: make([]float64, rows), Token: true}
	}
	return cols
}

// idColumns returns the Length columns of token ids of c.
func idColumns(c *Column, ids map[string]int, o TextOptions) []*Column {
	names := make([]string, o.Length)
	for k := range names {
		names[k] = c.Name + "_" + strconv.Itoa(k)
	}
	cols := newTokenColumns(names, len(c.Str))
	var buf []string
	for i, s := range c.Str {
		buf = o.tokens(s, buf[:0])
		toks, offset := buf, 0
		if len(toks) > o.Length {
			if o.Pad == "pre" {
				toks = toks[len(toks)-o.Length:]
			} else {
				toks = toks[:o.Length]
			}
		}
		if o.Pad == "pre" {
			offset = o.Length - len(toks)
		}
		for k, t := range toks {
			id, ok := ids[t]
			if !ok {
				id = OOVID
			}
			cols[offset+k].Num[i] = float64(id)
		}
	}
	return cols
}

// countColumns returns one column per vocabulary token, and one for the
// tokens outside it, counting their occurrences in each row of c.
func countColumns(c *Column, vocab []string, ids map[string]int, o TextOptions) []*Column {
	names := make([]string, len(vocab)+1)
	for k, t := range vocab {
		names[k] = c.Name + "[" + t + "]"
	}
	names[len(vocab)] = c.Name + oovColumn
	cols := newTokenColumns(names, len(c.Str))
	oov := cols[len(vocab)]
	var buf []string
	for i, s := range c.Str {
		buf = o.tokens(s, buf[:0])
		for _, t := range buf {
			if id, ok := ids[t]; ok {
				cols[id-reservedIDs].Num[i]++
			} else {
				oov.Num[i]++
			}
		}
	}
	return cols
}

// Prepared returns the frame as Matrix sees it: a text column not tokenised yet (a frame never
// split) tokenised with a vocabulary fitted on the Train rows, the fit recorded in Transforms.
func (f *Frame) Prepared() (*Frame, error) { return f.tokenized() }
