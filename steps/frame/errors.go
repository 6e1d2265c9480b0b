package frame

import (
	"fmt"
	"strings"

	"github.com/loom-ml/loom/internal/suggest"
)

// DataError reports bad input data at a position in a file, in the manner of
// encoding/csv.ParseError.
type DataError struct {
	// File is the path of the data file ("" for generated data).
	File string
	// Row is the 1-based line in the file where the record starts; the
	// header is line 1. 0 means the whole file.
	Row int
	// Rows says Row counts the file's rows, not its lines (Parquet).
	Rows bool
	// Column is the column name, or "" when the error is not about one.
	Column string
	// Err is what is wrong.
	Err error
}

// Error formats the error as file:row: column "c": message.
func (e *DataError) Error() string {
	s := e.File
	switch {
	case e.Row > 0 && s == "":
		s = fmt.Sprintf("row %d", e.Row) // records without a file: the row is the record's place
	case e.Row > 0 && e.Rows:
		s += fmt.Sprintf(": row %d", e.Row)
	case e.Row > 0:
		s += fmt.Sprintf(":%d", e.Row)
	}
	if s != "" {
		s += ": "
	}
	if e.Column != "" {
		s += fmt.Sprintf("column %q: ", e.Column)
	}
	return s + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *DataError) Unwrap() error { return e.Err }

// NoColumnError is a column named by ReadOptions (the target or a feature)
// that the file's header lacks.
type NoColumnError struct {
	Role    string // "target" or "feature"
	Index   int    // the feature's position in ReadOptions.Features
	Name    string
	Columns []string // the header
}

func (e *NoColumnError) Error() string {
	return fmt.Sprintf("%s column %q not found%s (columns: %s)", e.Role, e.Name,
		suggest.DidYouMean(e.Name, e.Columns), strings.Join(e.Columns, ", "))
}

// ExprError reports an expression that does not compile or run. Line and
// Column are 1-based positions inside Expr, so that the caller can add
// them to the expression's position in the manifest.
type ExprError struct {
	Expr   string
	Line   int
	Column int
	Msg    string
}

// Error formats the error with its position and the expression.
func (e *ExprError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("expression %q: %s", e.Expr, e.Msg)
	}
	return fmt.Sprintf("expression %q (%d:%d): %s", e.Expr, e.Line, e.Column, e.Msg)
}
