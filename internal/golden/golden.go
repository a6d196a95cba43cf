// Package golden compares what a test produced with a file in the tree
// (a golden file, a generated doc), rewriting the file when the tests run
// with -update.
package golden

import (
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files and generated docs from what the tests produce")

// Check fails t when the file at path differs from want; under -update it
// writes want there first. regenerate says how to update it.
func Check(t testing.TB, path string, want []byte, regenerate string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (%s)", err, regenerate)
	}
	if string(got) != string(want) {
		t.Errorf("%s is out of step with the code: %s", path, regenerate)
	}
}
