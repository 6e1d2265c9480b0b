package frame

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// affairs is in the manner of statsmodels' affairs data: the label must be derived.
const affairs = "rating,age,yrs,affairs,income\n" +
	"4,32,9,0,30\n3,27,13,3.2,45\n5,22,2.5,0,20\n2,37,16.5,0.7,60\n4,27,9,0,35\n3,42,23,1.4,70\n"

func TestDeriveTargetThenDrop(t *testing.T) {
	p := writeFile(t, "affairs.csv", affairs)
	f, err := Read(p, ReadOptions{Target: "had_affair",
		Derive: []Derive{{Column: "had_affair", Expr: "affairs > 0"}, {Column: "per_year", Expr: "income / age"}},
		Drop:   []string{"affairs", "income"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.Names(), ","); got != "rating,age,yrs,per_year,had_affair" {
		t.Errorf("columns %s", got)
	}
	if f.Task != Classification || !reflect.DeepEqual(f.ClassLabels, []string{"0", "1"}) {
		t.Errorf("task %s, labels %v", f.Task, f.ClassLabels)
	}
	if got := f.TargetColumn().Num; !reflect.DeepEqual(got, []float64{0, 1, 0, 1, 0, 1}) {
		t.Errorf("had_affair %v", got)
	}
	// Predicting needs income (per_year reads it) but not affairs, which only the target read.
	var fields []string
	for _, fd := range f.Fields {
		fields = append(fields, fd.Name)
	}
	if strings.Join(fields, ",") != "rating,age,yrs,income" {
		t.Errorf("fields %v", fields)
	}
	in, err := ReadFeatures("new.csv", []byte("income,yrs,age,rating\n40,3,20,5\n"), f.Fields, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := Replay(in, f.Transforms); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(in.Names(), ","); got != "rating,age,yrs,per_year" {
		t.Errorf("replayed columns %s", got)
	}
	if v := in.Column("per_year").Num[0]; v != 2 {
		t.Errorf("replayed per_year %g, want 2", v)
	}
}

func TestDeriveWithFeatures(t *testing.T) {
	p := writeFile(t, "affairs.csv", affairs)
	f, err := Read(p, ReadOptions{Target: "had_affair", Features: []string{"per_year", "rating"},
		Derive: []Derive{{Column: "had_affair", Expr: "affairs > 0"}, {Column: "per_year", Expr: "income / age"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.Names(), ","); got != "rating,per_year,had_affair" {
		t.Errorf("columns %s", got)
	}
	for _, c := range []struct {
		opt  ReadOptions
		want string
	}{
		{ReadOptions{Target: "had_affair", Derive: []Derive{{Column: "x", Expr: "affairs > 0"}}, Drop: []string{"age"}}, `target column "had_affair" not found`},
		{ReadOptions{Target: "rating", Features: []string{"per_yer"}, Derive: []Derive{{Column: "per_year", Expr: "income / age"}}}, `feature column "per_yer" not found (did you mean "per_year"?)`},
		{ReadOptions{Target: "rating", Drop: []string{"rating"}}, `drop: "rating" is the target column`},
		{ReadOptions{Target: "rating", Drop: []string{"nope"}}, `nope`},
		{ReadOptions{Target: "rating", Derive: []Derive{{Column: "x", Expr: "affairz > 0"}}}, `affairz`},
	} {
		_, err := Read(p, c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want %q", c.opt, err, c.want)
		}
	}
}

func TestTestPath(t *testing.T) {
	train := writeFile(t, "train.csv", "x,c,y\n1,a,0\n2,b,1\n3,a,0\n4,b,1\n5,a,0\n6,b,1\n")
	test := writeFile(t, "test.csv", "x,c,y\n7,7,1\n8,b,2\n")
	f, err := Read(train, ReadOptions{Target: "y", TestPath: test})
	if err != nil {
		t.Fatal(err)
	}
	if f.Count(Train) != 6 || f.Count(Test) != 2 || !f.PresetTest {
		t.Fatalf("train %d test %d preset %v", f.Count(Train), f.Count(Test), f.PresetTest)
	}
	if !reflect.DeepEqual(f.Source[6:], []int{0, 1}) || !reflect.DeepEqual(f.ClassLabels, []string{"0", "1", "2"}) {
		t.Errorf("test sources %v, labels %v", f.Source[6:], f.ClassLabels)
	}
	if c := f.Column("c"); c.Kind != Categorical || c.Str[6] != "7" {
		t.Errorf("c is categorical in train, so the test file's 7 is text: %v", c)
	}
	// A split keeps the test rows and draws validation rows from the others.
	if err := (SplitData{Val: 0.5, Seed: 1}).Apply(f); err != nil {
		t.Fatal(err)
	}
	if f.Count(Test) != 2 || f.Count(Val) != 3 || f.Splits[6] != Test || f.Splits[7] != Test {
		t.Errorf("after split: train %d val %d test %d", f.Count(Train), f.Count(Val), f.Count(Test))
	}
	if err := (SplitData{Test: 0.2}).Apply(f); err == nil || !strings.Contains(err.Error(), "give only val") {
		t.Errorf("split with test on a preset test set: %v", err)
	}
	for _, c := range []struct{ test, want string }{
		{"x,y,c\n1,0,a\n", "test_path must have the columns of"},
		{"x,c,y\nseven,a,1\n", `test.csv:2: column "x": "seven" is not a number, but the column is numeric in`},
		{"x,c,y\n1,a,\n", `column "y": the target value is missing`},
	} {
		_, err := Read(train, ReadOptions{Target: "y", TestPath: writeFile(t, "test.csv", c.test)})
		var de *DataError
		if !errors.As(err, &de) || !strings.Contains(err.Error(), c.want) || !strings.HasSuffix(de.File, "test.csv") {
			t.Errorf("%q: got %v, want %q", c.test, err, c.want)
		}
	}
}

func TestSplitColumn(t *testing.T) {
	p := writeFile(t, "d.csv", "x,fold,y\n1,train,0\n2,test,1\n3,val,0\n4,Train,1\n5,validation,0\n6,train,1\n")
	f, err := Read(p, ReadOptions{Target: "y"})
	if err != nil {
		t.Fatal(err)
	}
	if err := (SplitData{Column: "fold"}).Apply(f); err != nil {
		t.Fatal(err)
	}
	if f.Count(Train) != 3 || f.Count(Val) != 2 || f.Count(Test) != 1 || f.Splits[1] != Test {
		t.Errorf("train %d val %d test %d", f.Count(Train), f.Count(Val), f.Count(Test))
	}
	if f.Column("fold") != nil || len(f.Fields) != 1 || f.Fields[0].Name != "x" {
		t.Errorf("the split column is still a column or a field: %v %v", f.Names(), f.Fields)
	}
	bad := writeFile(t, "d.csv", "x,fold,y\n1,train,0\n2,tset,1\n")
	f, _ = Read(bad, ReadOptions{Target: "y"})
	if err := (SplitData{Column: "fold"}).Apply(f); err == nil || err.Error() != `split: column "fold", data row 2: "tset" is not train, val or test` {
		t.Errorf("got %v", err)
	}
	if err := (SplitData{Column: "y"}).Apply(f); err == nil || !strings.Contains(err.Error(), "is the target") {
		t.Errorf("got %v", err)
	}
}
