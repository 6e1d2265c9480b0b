package bundle

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/loom-ml/loom/nn"
	"github.com/loom-ml/loom/steps/frame"
)

func testBundle(t *testing.T) *Bundle {
	t.Helper()
	x := &frame.Column{Name: "x", Kind: frame.Numeric, Num: []float64{1, 2, 3, 4, 5, 6}}
	y := &frame.Column{Name: "y", Kind: frame.Categorical, Str: []string{"a", "b", "a", "b", "a", "b"}}
	fr, err := frame.New([]*frame.Column{x, y}, "y", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := (frame.Normalize{Method: "zscore"}).Apply(fr); err != nil {
		t.Fatal(err)
	}
	net, err := nn.New(nn.Spec{Inputs: 1, Seed: 3, Layers: []nn.LayerSpec{{Type: "dense", Units: 1, Activation: "sigmoid"}}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(net, fr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRoundTrip: a bundle reads back to the same bytes and predictions.
func TestRoundTrip(t *testing.T) {
	b := testBundle(t)
	var one, two bytes.Buffer
	if err := b.Write(&one); err != nil {
		t.Fatal(err)
	}
	c, err := Read(bytes.NewReader(one.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Write(&two); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(one.Bytes(), two.Bytes()) {
		t.Error("a bundle read back writes other bytes")
	}
	if c.Classes[1] != "b" || c.Fields[0] != (frame.Field{Name: "x", Kind: "numeric"}) || c.Transforms[0].Op != "normalize" {
		t.Errorf("read back: %+v", c.Info)
	}
}

// TestVersions: a network without bundle metadata, and a bundle of a newer format, are
// refused saying why.
func TestVersions(t *testing.T) {
	b := testBundle(t)
	var plain bytes.Buffer
	b.Net.Save(&plain)
	if _, err := Read(&plain); !errors.Is(err, ErrNoBundle) {
		t.Errorf("a plain network: %v", err)
	}
	newer := *b
	newer.Version = Version + 1
	js, _ := json.Marshal(newer.Info)
	var buf bytes.Buffer
	b.Net.SaveWithMetadata(&buf, map[string]string{metaKey: string(js)})
	if _, err := Read(&buf); err == nil || !strings.Contains(err.Error(), "use a newer loom") {
		t.Errorf("a newer bundle: %v", err)
	}
}

// TestPredictionColumns: one sigmoid output gives both classes' probabilities, and the
// threshold decides the label as metrics.Classify does.
func TestPredictionColumns(t *testing.T) {
	p := &Predictions{Task: frame.Classification, Classes: []string{"no", "yes"}, Out: []float32{0.25, 0.5}, Width: 1, Threshold: 0.5}
	var out bytes.Buffer
	if err := p.WriteCSV(&out, Keep{Names: []string{"id"}, Values: [][]string{{"a", "b"}}}); err != nil {
		t.Fatal(err)
	}
	if want := "id,prediction,prob_no,prob_yes\na,no,0.75,0.25\nb,yes,0.5,0.5\n"; out.String() != want {
		t.Errorf("got\n%swant\n%s", out.String(), want)
	}
	out.Reset()
	r := &Predictions{Task: frame.Regression, Out: []float32{1.5, -2}, Width: 1}
	r.WriteJSONLines(&out, Keep{})
	if want := "{\"prediction\":1.5}\n{\"prediction\":-2}\n"; out.String() != want {
		t.Errorf("regression JSON lines: %s", out.String())
	}
}
