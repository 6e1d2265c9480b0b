package suggest

import "testing"

func TestClosest(t *testing.T) {
	names := []string{"train", "evaluate", "prep", "load"}
	for in, want := range map[string]string{
		"trian": "train", "evalute": "evaluate", "pre": "prep", "x": "", "completely-different": "",
	} {
		if got := Closest(in, names); got != want {
			t.Errorf("Closest(%q) = %q, want %q", in, got, want)
		}
	}
	if got := DidYouMean("lod", names); got != ` (did you mean "load"?)` {
		t.Errorf("DidYouMean: %q", got)
	}
}
