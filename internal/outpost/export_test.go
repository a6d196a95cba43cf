package outpost

import (
	"encoding/json"
	"testing"
)

func TestLoudness_Normalize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"", "", true}, {"off", "off", true}, {"None", "off", true}, {"platform", "platform", true},
		{"-14", "-14", true}, {" -16.5 ", "-16.5", true}, {"-14 LUFS", "-14", true},
		{"-4", "", false}, {"-71", "", false}, {"loud", "", false}, {"NaN", "", false},
	} {
		got, err := Loudness(tc.in).Normalize()
		if (err == nil) != tc.ok || string(got) != tc.want {
			t.Errorf("Normalize(%q) = %q, %v; want %q (ok %v)", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestLoudness_UnmarshalJSON(t *testing.T) {
	t.Parallel()
	var v struct {
		A, B Loudness
	}
	if err := json.Unmarshal([]byte(`{"a": -14, "b": "platform"}`), &v); err != nil || v.A != "-14" || v.B != "platform" {
		t.Errorf("got %+v, %v", v, err)
	}
	if err := json.Unmarshal([]byte(`{"a": true}`), &v); err == nil {
		t.Error("a boolean was accepted")
	}
}
