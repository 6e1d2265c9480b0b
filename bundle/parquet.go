package bundle

import (
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"

	"github.com/parquet-go/parquet-go"

	"github.com/loom-ml/loom/steps/frame"
)

// WriteParquet writes the kept columns (as text) and the predictions as a Parquet file, with
// the columns of WriteCSV in its order: the prediction a string for classification and a
// double for regression, each probability a float.
func (p *Predictions) WriteParquet(w io.Writer, keep Keep) error {
	// A struct type made at run time keeps the columns in order, which a parquet.Group (a map)
	// would sort by name.
	var fields []reflect.StructField
	add := func(name string, t reflect.Type) error {
		if strings.ContainsAny(name, ",\"") {
			return fmt.Errorf("column %q: a Parquet column name here cannot hold a comma or a quote", name)
		}
		fields = append(fields, reflect.StructField{Name: "F" + strconv.Itoa(len(fields)), Type: t,
			Tag: reflect.StructTag(`parquet:` + strconv.Quote(name))})
		return nil
	}
	str, f32, f64 := reflect.TypeFor[string](), reflect.TypeFor[float32](), reflect.TypeFor[float64]()
	for _, n := range keep.Names {
		if err := add(n, str); err != nil {
			return err
		}
	}
	cols := p.Columns()
	predType := str
	if p.Task != frame.Classification {
		predType = f64
	}
	if err := add(cols[0], predType); err != nil {
		return err
	}
	for _, n := range cols[1:] {
		if err := add(n, f32); err != nil {
			return err
		}
	}
	row := reflect.New(reflect.StructOf(fields)).Elem()
	pw := parquet.NewWriter(w, parquet.SchemaOf(row.Interface()))
	for r := range p.Rows() {
		for i, col := range keep.Values {
			row.Field(i).SetString(col[r])
		}
		k := len(keep.Values)
		if p.Task == frame.Classification {
			row.Field(k).SetString(p.Label(r))
			for c := range p.Classes {
				row.Field(k + 1 + c).SetFloat(float64(p.Prob(r, c)))
			}
		} else {
			row.Field(k).SetFloat(float64(p.Out[r*p.Width]))
		}
		if err := pw.Write(row.Interface()); err != nil {
			return err
		}
	}
	return pw.Close()
}
