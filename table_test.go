package main

import (
	"strings"
	"testing"
)

func TestPrintTable(t *testing.T) {
	header := []string{"stage", "metric", "value", ""}
	rows := [][]string{{"train", "loss", "0.0349", "better"}, {"evaluate", "σ 日本", "12", ""}, {"x"}}
	for _, c := range []struct {
		md   bool
		want string
	}{
		{false, `
┌──────────┬────────┬────────┬────────┐
│  stage   │ metric │ value  │        │
├──────────┼────────┼────────┼────────┤
│ train    │ loss   │ 0.0349 │ better │
│ evaluate │ σ 日本 │     12 │        │
│ x        │        │        │        │
└──────────┴────────┴────────┴────────┘
`},
		{true, `
|  stage   | metric | value  |        |
|:---------|:-------|-------:|:-------|
| train    | loss   | 0.0349 | better |
| evaluate | σ 日本 |     12 |        |
| x        |        |        |        |
`},
	} {
		var b strings.Builder
		if err := printTable(&b, c.md, header, rows); err != nil {
			t.Fatal(err)
		}
		if got := "\n" + b.String(); got != c.want {
			t.Errorf("markdown %v:\n%s\nwant:%s", c.md, got, c.want)
		}
	}
	var b strings.Builder
	printTable(&b, true, []string{"a", "b"}, nil)
	if b.String() != "| a | b |\n|:-:|:-:|\n" {
		t.Errorf("empty markdown table:\n%s", b.String())
	}
}
