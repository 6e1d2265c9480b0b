package frame

import (
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

// writeFile writes content to a file named name in a temporary folder.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadCSVIris(t *testing.T) {
	f, err := Read("../../examples/iris/data/iris.csv", ReadOptions{Target: "species"})
	if err != nil {
		t.Fatal(err)
	}
	if f.Rows() != 150 || len(f.Columns) != 5 {
		t.Fatalf("rows %d cols %d", f.Rows(), len(f.Columns))
	}
	if f.Task != Classification || !reflect.DeepEqual(f.Classes(), []string{"setosa", "versicolor", "virginica"}) {
		t.Fatalf("task %s classes %v", f.Task, f.Classes())
	}
	if got := f.Column("sepal_length").Num[0]; got != 5.1 {
		t.Fatalf("sepal_length[0] = %v", got)
	}
	if f.Outputs() != 3 || f.Count(Train) != 150 {
		t.Fatalf("outputs %d train %d", f.Outputs(), f.Count(Train))
	}
}

func TestReadCSVNumericTargets(t *testing.T) {
	f, err := Read("../../examples/digits/data/digits.csv", ReadOptions{Target: "digit"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	if f.Task != Classification || !reflect.DeepEqual(f.Classes(), want) {
		t.Fatalf("task %s classes %v", f.Task, f.Classes())
	}
	// Numeric labels sort as numbers, not as strings ("10" after "9").
	p := writeFile(t, "n.csv", "x,y\n1,10\n2,9\n3,2\n")
	f, err = Read(p, ReadOptions{Target: "y"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.Classes(), []string{"2", "9", "10"}) {
		t.Fatalf("classes %v", f.Classes())
	}
	// Fractions make regression; an explicit task overrides inference.
	p = writeFile(t, "r.csv", "x,y\n1,0.5\n2,1.5\n3,2\n")
	if f, err = Read(p, ReadOptions{Target: "y"}); err != nil || f.Task != Regression || f.Outputs() != 1 {
		t.Fatalf("task %v err %v", f.Task, err)
	}
	p = writeFile(t, "c.csv", "x,y\n1,0\n2,1\n3,1\n")
	if f, err = Read(p, ReadOptions{Target: "y", Task: "regression"}); err != nil || f.Task != Regression {
		t.Fatalf("override: task %v err %v", f.Task, err)
	}
}

func TestReadCSVManyIntegersIsRegression(t *testing.T) {
	var b strings.Builder
	b.WriteString("x,y\n")
	for i := range 21 {
		b.WriteString("1," + formatNumber(float64(i)) + "\n")
	}
	f, err := Read(writeFile(t, "m.csv", b.String()), ReadOptions{Target: "y"})
	if err != nil || f.Task != Regression {
		t.Fatalf("21 integer values: task %v err %v", f.Task, err)
	}
}

func TestReadCSVQuotingBOMCRLF(t *testing.T) {
	content := "\xef\xbb\xbfname,\"a b\",label\r\n" +
		"\"Smith, John\",1,yes\r\n" +
		"\"two\nlines\",2,no\r\n" +
		"\"say \"\"hi\"\"\",NA,yes\r\n"
	f, err := Read(writeFile(t, "q.csv", content), ReadOptions{Target: "label"})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Names(); !reflect.DeepEqual(got, []string{"name", "a b", "label"}) {
		t.Fatalf("names %q", got)
	}
	name := f.Column("name")
	if name.Kind != Categorical || name.Str[0] != "Smith, John" || name.Str[1] != "two\nlines" || name.Str[2] != `say "hi"` {
		t.Fatalf("name column %q", name.Str)
	}
	ab := f.Column("a b")
	if ab.Kind != Numeric || ab.Num[1] != 2 || !math.IsNaN(ab.Num[2]) {
		t.Fatalf("a b column %v", ab.Num)
	}
}

func TestReadTSVAndMissingMarkers(t *testing.T) {
	content := "a\tb\tc\ty\n1\tNA\tx\t0\n2\tn/a\t?\t1\n3\tnull\t\t0\n4\tNaN\tz\t1\n"
	f, err := Read(writeFile(t, "d.tsv", content), ReadOptions{Target: "y"})
	if err != nil {
		t.Fatal(err)
	}
	b := f.Column("b")
	for i := range 4 {
		if !b.Missing(i) {
			t.Fatalf("b[%d] = %v, want missing", i, b.Num[i])
		}
	}
	c := f.Column("c")
	if c.Kind != Categorical || !c.Missing(1) || !c.Missing(2) || c.Str[3] != "z" {
		t.Fatalf("c = %q", c.Str)
	}
}

func TestReadCSVFeaturesAndCategorical(t *testing.T) {
	content := "zip,a,b,y\n02139,1,2,0\n10001,3,4,1\n"
	f, err := Read(writeFile(t, "f.csv", content), ReadOptions{Target: "y", Features: []string{"b", "zip"}, Categorical: []string{"zip"}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.Names(), []string{"b", "zip", "y"}) {
		t.Fatalf("names %v", f.Names())
	}
	if z := f.Column("zip"); z.Kind != Categorical || z.Str[0] != "02139" {
		t.Fatalf("zip %+v", z)
	}
}

func TestReadCSVErrors(t *testing.T) {
	many := "a,y\n" + strings.Repeat("1,0\n2,1\n", 15) + "abc,1\n"
	cases := []struct {
		name, content string
		opt           ReadOptions
		row           int
		column, msg   string
	}{
		{"empty", "", ReadOptions{Target: "y"}, 0, "", "empty"},
		{"blank", "\r\n  \n", ReadOptions{Target: "y"}, 0, "", "empty"},
		{"header only", "a,y\n", ReadOptions{Target: "y"}, 1, "", "no data rows"},
		{"ragged", "a,y\n1,0\n2,1,3\n", ReadOptions{Target: "y"}, 3, "", "ragged"},
		{"short", "a,y\n1,0\n2\n", ReadOptions{Target: "y"}, 3, "", "ragged"},
		{"bad quote", "a,y\n\"1,0\n", ReadOptions{Target: "y"}, 2, "", "quote"},
		{"duplicate header", "a,a,y\n1,2,0\n", ReadOptions{Target: "y"}, 1, "a", "duplicate"},
		{"empty header", "a,,y\n1,2,0\n", ReadOptions{Target: "y"}, 1, "", "empty"},
		{"no target", "a,b\n1,2\n", ReadOptions{Target: "y"}, 1, "", `target column "y" not found (columns: a, b)`},
		{"target misspelt", "a,label\n1,2\n", ReadOptions{Target: "labels"}, 1, "", `(did you mean "label"?)`},
		{"target not given", "a,b\n1,2\n", ReadOptions{}, 0, "", "no target"},
		{"unknown feature", "a,y\n1,0\n", ReadOptions{Target: "y", Features: []string{"b"}}, 1, "", `feature column "b" not found`},
		{"beyond float32", "a,y\n1,0\n1e308,1\n", ReadOptions{Target: "y"}, 3, "a", "outside the range"},
		{"negative beyond float32", "a,y\n1,0\n2,1\n-4e38,1\n", ReadOptions{Target: "y"}, 4, "a", "outside the range"},
		{"not UTF-8", "a,y\n1,0\n2,\xe9t\xe9\n", ReadOptions{Target: "y"}, 3, "y", "not valid UTF-8"},
		{"unknown categorical", "a,y\n1,0\n", ReadOptions{Target: "y", Categorical: []string{"q"}}, 1, "q", "no such column"},
		{"one class", "a,y\n1,cat\n2,cat\n", ReadOptions{Target: "y"}, 0, "y", "1 class"},
		{"missing target", "a,y\n1,0\n2,\n", ReadOptions{Target: "y"}, 3, "y", "missing"},
		{"line after a quoted newline", "a,y\n\"p\nq\",0\nb,\n", ReadOptions{Target: "y"}, 4, "y", "missing"},
		{"ragged after CRLF", "a,y\r\n1,0\r\n2\r\n", ReadOptions{Target: "y"}, 3, "", "ragged"},
		{"text regression", "a,y\n1,x\n2,z\n", ReadOptions{Target: "y", Task: "regression"}, 0, "y", "not numeric"},
		{"unknown task", "a,y\n1,0\n2,1\n", ReadOptions{Target: "y", Task: "ranking"}, 0, "y", "unknown task"},
		{"not a number", many, ReadOptions{Target: "y"}, 32, "a", `"abc" is not a number`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(writeFile(t, "bad.csv", tc.content), tc.opt)
			var de *DataError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want *DataError", err)
			}
			if de.Row != tc.row || de.Column != tc.column || !strings.Contains(err.Error(), tc.msg) || !strings.HasSuffix(de.File, "bad.csv") {
				t.Fatalf("got row %d column %q: %v; want row %d column %q containing %q", de.Row, de.Column, err, tc.row, tc.column, tc.msg)
			}
		})
	}
}

func TestDataErrorFormat(t *testing.T) {
	e := &DataError{File: "data/x.csv", Row: 17, Column: "age", Err: errors.New(`"abc" is not a number`)}
	if got, want := e.Error(), `data/x.csv:17: column "age": "abc" is not a number`; got != want {
		t.Fatalf("got %q want %q", got, want)
	}
}

func TestReadCSVMissingFile(t *testing.T) {
	_, err := Read("testdata/nope.csv", ReadOptions{Target: "y"})
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v", err)
	}
}

func TestMixedColumnIsCategorical(t *testing.T) {
	// A few numbers among words is a text column, not a typo.
	f, err := Read(writeFile(t, "m.csv", "size,y\n1,0\nlarge,1\n3,0\n"), ReadOptions{Target: "y"})
	if err != nil {
		t.Fatal(err)
	}
	if c := f.Column("size"); c.Kind != Categorical || c.Str[0] != "1" {
		t.Fatalf("size %+v", c)
	}
}

func TestReadCSVInfinityIsNotANumber(t *testing.T) {
	f, err := Read(writeFile(t, "i.csv", "a,y\n1,0\ninf,1\n"), ReadOptions{Target: "y"})
	if err != nil {
		t.Fatal(err)
	}
	if f.Column("a").Kind != Categorical {
		t.Fatalf("a column with inf is %v", f.Column("a").Kind)
	}
}

// TestRaggedRowFailsFast: reading stops at the first ragged row. The file is a pipe whose
// writer never ends, so a reader that went on to the end would never return.
func TestRaggedRowFailsFast(t *testing.T) {
	p := filepath.Join(t.TempDir(), "endless.csv")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		w, err := os.OpenFile(p, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		defer w.Close()
		io.WriteString(w, "a,b,y\n1,2,0\n1,2\n")
		row := []byte(strings.Repeat("1,2,1\n", 10000))
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := w.Write(row); err != nil {
				return // the reader closed the pipe
			}
		}
	}()
	done := make(chan error, 1)
	go func() {
		_, err := Read(p, ReadOptions{Target: "y"})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "endless.csv:3: wrong number of fields (ragged row)") {
			t.Errorf("got %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("reading did not stop at the ragged row")
	}
}
