package main

import (
	"io"
	"strconv"
	"strings"

	"github.com/mattn/go-runewidth"
)

// printTable renders a table as box-drawn text, or as GitHub markdown for pull-request
// comments: headers centred and as written, a column of numbers (empty cells aside)
// right-aligned, any other left-aligned.
func printTable(w io.Writer, markdown bool, header []string, rows [][]string) error {
	cols := len(header)
	width := make([]int, cols)
	right := make([]bool, cols)
	for c, h := range header {
		width[c], right[c] = runewidth.StringWidth(h), true
		for _, r := range rows {
			v := cellOf(r, c)
			width[c] = max(width[c], runewidth.StringWidth(v))
			if v != "" && !isNumber(v) {
				right[c] = false
			}
		}
	}
	var b strings.Builder
	line := func(left, mid, end string) {
		b.WriteString(left)
		for c := range cols {
			if c > 0 {
				b.WriteString(mid)
			}
			b.WriteString(strings.Repeat("─", width[c]+2))
		}
		b.WriteString(end + "\n")
	}
	bar, edge := "│", "│"
	if markdown {
		bar, edge = "|", "|"
	} else {
		line("┌", "┬", "┐")
	}
	row := func(cells []string, align func(c int) int) {
		b.WriteString(edge)
		for c := range cols {
			if c > 0 {
				b.WriteString(bar)
			}
			v := cellOf(cells, c)
			pad := width[c] - runewidth.StringWidth(v)
			left := 0
			switch align(c) {
			case alignCenter:
				left = pad / 2
			case alignRight:
				left = pad
			}
			b.WriteString(" " + strings.Repeat(" ", left) + v + strings.Repeat(" ", pad-left) + " ")
		}
		b.WriteString(edge + "\n")
	}
	row(header, func(int) int { return alignCenter })
	if markdown {
		b.WriteString("|")
		for c := range cols {
			switch {
			case len(rows) == 0: // no cell to align by
				b.WriteString(":" + strings.Repeat("-", width[c]) + ":|")
			case right[c]:
				b.WriteString(strings.Repeat("-", width[c]+1) + ":|")
			default:
				b.WriteString(":" + strings.Repeat("-", width[c]+1) + "|")
			}
		}
		b.WriteString("\n")
	} else if len(rows) > 0 {
		line("├", "┼", "┤")
	}
	for _, r := range rows {
		row(r, func(c int) int {
			if right[c] {
				return alignRight
			}
			return alignLeft
		})
	}
	if !markdown {
		line("└", "┴", "┘")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

const (
	alignLeft = iota
	alignCenter
	alignRight
)

func cellOf(r []string, c int) string {
	if c < len(r) {
		return r[c]
	}
	return ""
}

// isNumber reports whether a cell holds a number (numbers read best right-aligned).
func isNumber(s string) bool {
	_, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimPrefix(s, "+"), "%"), 64)
	return err == nil
}
