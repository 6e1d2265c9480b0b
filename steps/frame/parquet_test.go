package frame

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// person is a row of people (steps_test.go's table) as a Parquet writer would type it:
// optional numbers for the cells that may be missing, a dictionary-encoded city.
type person struct {
	Age    *float64 `parquet:"age,optional"`
	City   string   `parquet:"city,dict"`
	Income *int64   `parquet:"income,optional"`
	Score  float32  `parquet:"score"`
	Member bool     `parquet:"member"`
	Label  string   `parquet:"label"`
}

// writeParquet writes rows to a file in groups of three rows.
func writeParquet[T any](t *testing.T, name string, rows []T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	w := parquet.NewGenericWriter[T](f, parquet.MaxRowsPerRowGroup(3))
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

func ptr[T any](v T) *T { return &v }

// TestParquetEqualsCSV: the same table as Parquet and as CSV gives the same frame, byte for
// byte once serialised, read row group by row group.
func TestParquetEqualsCSV(t *testing.T) {
	people := []person{
		{ptr(25.0), "paris", ptr[int64](30), 0.5, true, "no"},
		{ptr(35.0), "berlin", nil, 1.25, false, "yes"},
		{nil, "rome", ptr[int64](40), -2, true, "no"},
		{ptr(52.5), "", ptr[int64](60), 0, false, "yes"},
		{ptr(23.0), "rome", ptr[int64](20), 3.75, true, "no"},
		{ptr(40.0), "paris", ptr[int64](45), 1, false, "yes"},
		{ptr(31.0), "berlin", ptr[int64](35), 2, true, "no"},
	}
	pq := writeParquet(t, "people.parquet", people)
	csv := writeFile(t, "people.csv", "age,city,income,score,member,label\n"+
		"25,paris,30,0.5,1,no\n35,berlin,,1.25,0,yes\n,rome,40,-2,1,no\n52.5,,60,0,0,yes\n"+
		"23,rome,20,3.75,1,no\n40,paris,45,1,0,yes\n31,berlin,35,2,1,no\n")
	for _, opt := range []ReadOptions{
		{Target: "label"},
		{Target: "label", Features: []string{"income", "city"}},
		{Target: "rich", Derive: []Derive{{Column: "rich", Expr: "income > 35"}}, Drop: []string{"label"}},
	} {
		a, err := Read(pq, opt)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Read(csv, opt)
		if err != nil {
			t.Fatal(err)
		}
		var ab, bb bytes.Buffer
		a.WriteTo(&ab)
		b.WriteTo(&bb)
		if !bytes.Equal(ab.Bytes(), bb.Bytes()) {
			t.Errorf("%+v: the Parquet and CSV frames differ:\n%v\n%v", opt, a.Columns, b.Columns)
		}
	}
	// A test file in Parquet beside a CSV train file.
	f, err := Read(csv, ReadOptions{Target: "label", TestPath: writeParquet(t, "test.parquet", people[:2])})
	if err != nil {
		t.Fatal(err)
	}
	if f.Count(Test) != 2 || f.Column("city").Str[8] != "berlin" {
		t.Errorf("test rows %d, city %q", f.Count(Test), f.Column("city").Str[8])
	}
}

func TestParquetErrors(t *testing.T) {
	people := []person{{ptr(1.0), "a", nil, 0, true, "x"}, {ptr(2.0), "b", nil, 0, true, "y"}}
	pq := writeParquet(t, "people.parquet", people)
	type nested struct {
		ID   int64    `parquet:"id"`
		Tags []string `parquet:"tags,list"`
		Y    int64    `parquet:"y"`
	}
	for _, c := range []struct {
		path string
		opt  ReadOptions
		want string
	}{
		{pq, ReadOptions{Target: "labl"}, `people.parquet:1: target column "labl" not found (did you mean "label"?)`},
		{pq, ReadOptions{Target: "income"}, `people.parquet: row 1: column "income": the target value is missing`},
		{writeParquet(t, "nested.parquet", []nested{{1, []string{"a"}, 0}}), ReadOptions{Target: "y"},
			`nested.parquet:1: column "tags": a nested or repeated column; loom reads flat columns`},
		{writeFile(t, "bad.parquet", "id,y\n1,0\n"), ReadOptions{Target: "y"}, `bad.parquet: not a Parquet file loom can read`},
	} {
		_, err := Read(c.path, c.opt)
		var de *DataError
		if !errors.As(err, &de) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want %q", c.opt, err, c.want)
		}
	}
}
