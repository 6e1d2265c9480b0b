package manifest

import (
	"fmt"
	"sort"
	"strings"
)

// Pos is a place in a manifest or params file. Line and Col start at 1; zero means unknown.
type Pos struct {
	File      string
	Line, Col int
}

// String returns "file:line:col", dropping the parts that are unknown.
func (p Pos) String() string {
	switch {
	case p.Line == 0:
		return p.File
	case p.Col == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// before orders positions by file, then line, then column.
func (p Pos) before(q Pos) bool {
	if p.File != q.File {
		return p.File < q.File
	}
	if p.Line != q.Line {
		return p.Line < q.Line
	}
	return p.Col < q.Col
}

// Error is one problem at one place in a manifest.
type Error struct {
	Pos Pos
	Msg string
}

// Error returns "file:line:col: msg".
func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// ErrorList holds several errors sorted by position; Load returns one when it finds more than one problem.
type ErrorList []*Error

// Error joins the errors' messages, one a line.
func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Err returns nil for an empty list, the bare *Error for one, else the list sorted by position
// without exact repeats.
func (l ErrorList) Err() error { return finish(l) }

// errorSink collects the problems of one load so that a user sees them all at once.
type errorSink struct {
	file string
	list ErrorList
}

func (s *errorSink) add(line, col int, format string, args ...any) {
	s.list = append(s.list, &Error{Pos: Pos{s.file, line, col}, Msg: fmt.Sprintf(format, args...)})
}

func (s *errorSink) addErr(e *Error) { s.list = append(s.list, e) }

// err returns nil, the single error, or the sorted, de-duplicated list.
func (s *errorSink) err() error {
	return finish(s.list)
}

// finish sorts a list by position and drops exact repeats (one bad expression used twice in a
// line is reported once); it returns nil for an empty list and the bare *Error for one.
func finish(list ErrorList) error {
	if len(list) == 0 {
		return nil
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].Pos.before(list[j].Pos) })
	out := list[:1]
	for _, e := range list[1:] {
		if last := out[len(out)-1]; last.Pos == e.Pos && last.Msg == e.Msg {
			continue
		}
		out = append(out, e)
	}
	if len(out) == 1 {
		return out[0]
	}
	return out
}
