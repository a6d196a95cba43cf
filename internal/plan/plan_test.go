package plan

import (
	"strings"
	"testing"

	"outpost/internal/errcode"
)

func TestLimits_Check(t *testing.T) {
	t.Parallel()
	hd := Limits{MaxResolution: 1080}
	tests := []struct {
		name    string
		limits  Limits
		req     Request
		usage   Usage
		wantErr string // substring of the plan_limit error; "" for none
	}{
		{"unlimited", Limits{}, Request{Outputs: []Size{{7680, 4320}}, Batch: true, Variants: true, Exports: 99, Bytes: 1 << 40}, Usage{ActiveExports: 1000, StoredBytes: 1 << 50}, ""},
		{"1080p landscape", hd, Request{Outputs: []Size{{1920, 1080}}}, Usage{}, ""},
		{"1080p vertical", hd, Request{Outputs: []Size{{1080, 1920}}}, Usage{}, ""},
		{"4K refused", hd, Request{Outputs: []Size{{1280, 720}, {3840, 2160}}}, Usage{}, "max_resolution: this workspace's plan renders up to 1080p; a 3840×2160 output is 2160p"},
		{"batch refused", Limits{BatchDisabled: true}, Request{Batch: true}, Usage{}, "batch:"},
		{"batch off, single ok", Limits{BatchDisabled: true}, Request{Exports: 1}, Usage{}, ""},
		{"variants refused", Limits{VariantsDisabled: true}, Request{Variants: true}, Usage{}, "variants:"},
		{"concurrency fits", Limits{MaxConcurrentExports: 3}, Request{Exports: 1}, Usage{ActiveExports: 2}, ""},
		{"concurrency full", Limits{MaxConcurrentExports: 3}, Request{Exports: 2}, Usage{ActiveExports: 2}, "max_concurrent_exports: this workspace's plan runs 3 exports at once; 2 are queued or running and this request adds 2"},
		{"concurrency: no new export", Limits{MaxConcurrentExports: 1}, Request{}, Usage{ActiveExports: 5}, ""},
		{"storage fits", Limits{MaxStoredBytes: 1 << 30}, Request{Bytes: 1 << 20}, Usage{StoredBytes: 1 << 29}, ""},
		{"storage full", Limits{MaxStoredBytes: 1 << 30}, Request{Exports: 1}, Usage{StoredBytes: 1 << 30}, "max_stored_bytes: this workspace's plan stores 1.0 GiB; 1.0 GiB are stored"},
		{"upload too big", Limits{MaxStoredBytes: 1 << 30}, Request{Bytes: 600 << 20}, Usage{StoredBytes: 512 << 20}, "and this adds 600 MiB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.limits.Check(tc.req, tc.usage)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			if errcode.Of(err) != errcode.PlanLimit || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Check = %v, want plan_limit with %q", err, tc.wantErr)
			}
		})
	}
	if !(Limits{}).Unlimited() || hd.Unlimited() {
		t.Error("Unlimited")
	}
}
