package main

import (
	"io"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// printTable renders a table as box-drawn text, or as GitHub markdown for pull-request comments.
// Headers are printed as written (tablewriter upper-cases and splits them by default).
func printTable(w io.Writer, markdown bool, header []string, rows [][]string) error {
	opts := []tablewriter.Option{
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
	}
	align := make([]tw.Align, len(header))
	for c := range header {
		align[c] = tw.AlignRight
		for _, r := range rows {
			if c < len(r) && r[c] != "" && !isNumber(r[c]) {
				align[c] = tw.AlignLeft
				break
			}
		}
	}
	opts = append(opts, tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: align}))
	if markdown {
		opts = append(opts, tablewriter.WithRenderer(renderer.NewMarkdown()))
	}
	t := tablewriter.NewTable(w, opts...)
	t.Header(header)
	for _, r := range rows {
		if err := t.Append(r); err != nil {
			return err
		}
	}
	return t.Render()
}

// isNumber reports whether a cell holds a number (numbers read best right-aligned).
func isNumber(s string) bool {
	_, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimPrefix(s, "+"), "%"), 64)
	return err == nil
}
