package frame

import (
	"bytes"
	"testing"
)

// FuzzParseCSV checks that no input makes reading, preprocessing or
// serialising panic: bad data must come back as an error.
func FuzzParseCSV(f *testing.F) {
	f.Add([]byte("a,b,y\n1,x,0\n2,z,1\nNA,,1\n"))
	f.Add([]byte("\xef\xbb\xbfa;y\r\n\"1;2\",0\r\n"))
	f.Add([]byte("y\n1\n2\n3\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := readCSV("f.csv", data, ReadOptions{Target: "y"})
		if err != nil {
			return
		}
		for _, s := range []Step{Impute{Strategy: "most_frequent"}, Encode{}, SplitData{Test: 0.3, Seed: 1},
			Normalize{Method: "robust"}, Outliers{Method: "iqr"}, Augment{NoiseStd: 0.1}} {
			_ = s.Apply(fr)
		}
		_, _, _, _ = fr.Matrix(Train)
		var buf bytes.Buffer
		if _, err := fr.WriteTo(&buf); err != nil {
			return
		}
		if _, err := ReadFrame(&buf); err != nil {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// FuzzReadFrame checks that damaged frame bytes give an error, not a panic.
func FuzzReadFrame(f *testing.F) {
	fr, _ := Generate(GenOptions{Kind: "moons", N: 8})
	var buf bytes.Buffer
	_, _ = fr.WriteTo(&buf)
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ReadFrame(bytes.NewReader(data))
	})
}
