package frame

import (
	"errors"
	"fmt"
)

// shape applies a dataset's Derive, Drop and Features (ReadOptions) to a frame just read,
// before its target is set. It records what predicting must replay: Fields are the raw
// columns new data must have (the features as they came, and what derived features read),
// Transforms the derived features, the drops of columns new data has, and the choice of
// features. A derived target and the columns only it read are not replayed: new data has
// neither.
func (f *Frame) shape(opt ReadOptions) error {
	raw := make([]Field, len(f.Columns))
	for i, c := range f.Columns {
		raw[i] = Field{Name: c.Name, Kind: c.Kind.String()}
	}
	read := map[string]bool{}     // raw columns the replayed derivations read
	replayed := map[string]bool{} // derived feature columns
	var transforms []Transform
	for _, d := range opt.Derive {
		if d.Column == "" {
			return errors.New("derive: the new column needs a name")
		}
		e, err := compileRowExpr(f, d.Expr)
		if err != nil {
			return fmt.Errorf("derive %s: %w", d.Column, err)
		}
		if err := f.derive(d.Column, d.Expr); err != nil {
			return fmt.Errorf("derive %s: %w", d.Column, err)
		}
		if d.Column == opt.Target {
			continue
		}
		for _, c := range append(e.vars, e.rowCols...) {
			read[c.Name] = true
		}
		replayed[d.Column] = true
		transforms = append(transforms, Transform{Op: "derive", Column: d.Column, Expr: d.Expr})
	}
	var dropped []string
	for _, name := range opt.Drop {
		switch {
		case name == opt.Target:
			return fmt.Errorf("drop: %q is the target column", name)
		case f.Column(name) == nil:
			return f.unknownColumn("drop", name)
		case read[name] || replayed[name]:
			dropped = append(dropped, name)
		}
	}
	if err := f.dropColumns(opt.Drop); err != nil {
		return err
	}
	if len(dropped) > 0 {
		transforms = append(transforms, Transform{Op: "drop", Columns: dropped})
	}
	if f.Column(opt.Target) == nil {
		return &NoColumnError{Role: "target", Name: opt.Target, Columns: f.Names()}
	}
	if len(opt.Features) > 0 {
		for i, name := range opt.Features {
			if f.Column(name) == nil {
				return &NoColumnError{Role: "feature", Index: i, Name: name, Columns: f.Names()}
			}
		}
		if err := f.selectColumns(opt.Features); err != nil {
			return err
		}
		transforms = append(transforms, Transform{Op: "select", Columns: append([]string(nil), opt.Features...)})
	}
	f.Fields = nil
	for _, fd := range raw {
		if fd.Name != opt.Target && (read[fd.Name] || f.Column(fd.Name) != nil) {
			f.Fields = append(f.Fields, fd)
		}
	}
	f.Transforms = transforms
	return nil
}
