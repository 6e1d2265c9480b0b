package serve

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/loom-ml/loom/steps/frame"
)

// A prediction request's JSON is read by a scanner of its own rather than decoded into maps:
// encoding/json's map of every record was two thirds of a 100-row request's time. Values go
// straight to the frame's columns as text.

// cell is one value of a request: its text, or null; given is false for a column the
// request did not have.
type cell struct {
	text  string
	null  bool
	given bool
}

// parseRequest reads {"records": [{COL: VALUE}...]} or {"columns": [...], "data": [[...]...]}
// into a frame of fields (index maps their names to their positions). Row numbers in errors
// count from 1.
func parseRequest(body []byte, fields []frame.Field, index map[string]int) (*frame.Frame, error) {
	s := &scanner{b: body}
	var (
		cells   []cell // rows × fields
		columns []string
		rows    int
		lacking error // the first row without a field; reported once the JSON is known good
	)
	checkGiven := func(row []cell) {
		for i, f := range fields {
			if !row[i].given && lacking == nil {
				lacking = &frame.DataError{Row: rows, Column: f.Name, Err: errors.New("the model needs this column")}
			}
		}
	}
	err := s.object(func(key string) error {
		switch key {
		case "records":
			return s.array(func() error {
				row := len(cells)
				cells = append(cells, make([]cell, len(fields))...)
				err := s.object(func(col string) error {
					v, err := s.scalar()
					if i, ok := index[col]; ok {
						cells[row+i] = v
					}
					return err
				})
				if err != nil {
					return err
				}
				rows++
				checkGiven(cells[row:])
				return nil
			})
		case "columns":
			return s.array(func() error {
				v, err := s.scalar()
				if err != nil || v.null {
					return errors.New("columns must be a list of column names")
				}
				columns = append(columns, v.text)
				return nil
			})
		case "data":
			return s.array(func() error {
				if columns == nil {
					return errors.New(`give "columns" before "data"`)
				}
				row := len(cells)
				cells = append(cells, make([]cell, len(fields))...)
				rows++
				j := 0
				err := s.array(func() error {
					v, err := s.scalar()
					if err != nil {
						return err
					}
					if j < len(columns) {
						if i, ok := index[columns[j]]; ok {
							cells[row+i] = v
						}
					}
					j++
					return nil
				})
				if err != nil {
					return err
				}
				if j != len(columns) {
					return fmt.Errorf("row %d has %d values for %d columns", rows, j, len(columns))
				}
				checkGiven(cells[row:])
				return nil
			})
		}
		return fmt.Errorf("unknown field %q (want records, or columns and data)", key)
	})
	if err != nil {
		return nil, err
	}
	if s.ws(); s.i != len(s.b) {
		return nil, fmt.Errorf("the body has more after its JSON object, at byte %d", s.i)
	}
	if lacking != nil {
		return nil, lacking
	}
	if rows == 0 {
		return nil, errors.New("no rows")
	}
	fr := frame.NewInput(fields, rows)
	for r := range rows {
		for i := range fields {
			c := cells[r*len(fields)+i]
			if c.null {
				continue
			}
			if err := fr.SetCell(i, r, c.text); err != nil {
				return nil, &frame.DataError{Row: r + 1, Column: fields[i].Name, Err: err}
			}
		}
	}
	return fr, nil
}

// scanner reads JSON from b at i.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) fail(want string) error {
	if s.i >= len(s.b) {
		return fmt.Errorf("the body is not the JSON of a prediction request: it ends where %s should be", want)
	}
	return fmt.Errorf("the body is not the JSON of a prediction request ({\"records\": [...]} or {\"columns\": [...], \"data\": [...]}): want %s at byte %d, found %q", want, s.i, s.b[s.i])
}

// object reads {"key": VALUE, ...}, calling member for each key with the scanner at its value.
func (s *scanner) object(member func(key string) error) error {
	if s.ws(); s.i >= len(s.b) || s.b[s.i] != '{' {
		return s.fail("{")
	}
	s.i++
	if s.ws(); s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return nil
	}
	for {
		s.ws()
		key, err := s.str()
		if err != nil {
			return err
		}
		if s.ws(); s.i >= len(s.b) || s.b[s.i] != ':' {
			return s.fail(":")
		}
		s.i++
		if err := member(key); err != nil {
			return err
		}
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == ',' {
			s.i++
			continue
		}
		if s.i < len(s.b) && s.b[s.i] == '}' {
			s.i++
			return nil
		}
		return s.fail(", or }")
	}
}

// array reads [VALUE, ...], calling item with the scanner at each value.
func (s *scanner) array(item func() error) error {
	if s.ws(); s.i >= len(s.b) || s.b[s.i] != '[' {
		return s.fail("[")
	}
	s.i++
	if s.ws(); s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		return nil
	}
	for {
		if err := item(); err != nil {
			return err
		}
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == ',' {
			s.i++
			continue
		}
		if s.i < len(s.b) && s.b[s.i] == ']' {
			s.i++
			return nil
		}
		return s.fail(", or ]")
	}
}

// str reads a string; one with escapes goes through encoding/json.
func (s *scanner) str() (string, error) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return "", s.fail("a string")
	}
	start, escaped := s.i, false
	for s.i++; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '\\':
			escaped = true
			s.i++
		case c == '"':
			s.i++
			if !escaped {
				return string(s.b[start+1 : s.i-1]), nil
			}
			var out string
			if err := json.Unmarshal(s.b[start:s.i], &out); err != nil {
				return "", fmt.Errorf("the body is not JSON: %v", err)
			}
			return out, nil
		case c < 0x20:
			return "", s.fail("no control character in a string")
		}
	}
	return "", s.fail(`"`)
}

// scalar reads a string, number, boolean or null.
func (s *scanner) scalar() (cell, error) {
	s.ws()
	if s.i >= len(s.b) {
		return cell{}, s.fail("a value")
	}
	switch c := s.b[s.i]; {
	case c == '"':
		t, err := s.str()
		return cell{text: t, given: true}, err
	case c == '-' || c >= '0' && c <= '9':
		start := s.i
		for s.i < len(s.b) && (s.b[s.i] >= '0' && s.b[s.i] <= '9' || s.b[s.i] == '.' || s.b[s.i] == 'e' || s.b[s.i] == 'E' || s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		return cell{text: string(s.b[start:s.i]), given: true}, nil
	}
	for _, lit := range []string{"true", "false", "null"} {
		if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
			s.i += len(lit)
			return cell{text: lit, null: lit == "null", given: true}, nil
		}
	}
	return cell{}, s.fail("a number, a string, true, false or null")
}
