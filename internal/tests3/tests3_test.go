package tests3_test

import (
	"net/http"
	"os"
	"strings"
	"testing"

	"outpost/internal/tests3"
)

func TestStart(t *testing.T) {
	t.Parallel()
	gw := tests3.Start(t)
	u := gw.Bucket(t, "probe")
	if !strings.HasPrefix(u, "s3://probe?endpoint=http://127.0.0.1:") || !strings.Contains(u, "use_path_style=true") {
		t.Fatalf("Bucket = %s", u)
	}
	// Unauthenticated requests reach the server and are refused.
	resp, err := http.Get(gw.Endpoint + "/probe/nothing")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("anonymous GET = %d, want 403", resp.StatusCode)
	}
	if _, err := os.Stat(gw.ObjectPath("probe", "")); err != nil {
		t.Errorf("bucket directory: %v", err)
	}
	if env := gw.Env(); len(env) != 4 || env[0] != "AWS_ACCESS_KEY_ID="+gw.AccessKey {
		t.Errorf("Env = %v", env)
	}
}
