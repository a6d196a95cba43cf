//go:build googlesdk

// Run with: go test -tags googlesdk ./internal/sandbox/ (needs google.golang.org/api in go.sum).

package sandbox_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"testing"

	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
	"google.golang.org/api/youtube/v3"

	"outpost/internal/sandbox"
)

// bearer adds the token the way an oauth2 transport would.
type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

// Google's generated client must upload unchanged against the sandbox, with
// only its endpoint swapped: POST chunks, X-GUploader-No-308, "bytes A-B/*".
func TestGoogleGoClient_resumableUpload(t *testing.T) {
	t.Parallel()
	sb := sandbox.New(sandbox.Options{Dir: t.TempDir()})
	srv := httptest.NewServer(sb)
	defer srv.Close()
	ctx := context.Background()
	svc, err := youtube.NewService(ctx, option.WithEndpoint(srv.URL+"/"),
		option.WithHTTPClient(&http.Client{Transport: bearer{sb.IssueToken(sandbox.YouTube)}}))
	if err != nil {
		t.Fatal(err)
	}
	// The connection drops in the second chunk; the client retries it.
	if err := sb.Inject(sandbox.Fault{Platform: sandbox.YouTube, Kind: sandbox.FaultReset, After: 1}); err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{700 << 10, 100 << 10} { // resumable, then one multipart request
		data := make([]byte, size)
		_, _ = rand.Read(data)
		v, err := svc.Videos.Insert([]string{"snippet", "status"}, &youtube.Video{
			Snippet: &youtube.VideoSnippet{Title: "From the Go client", Description: "sdk"},
			Status:  &youtube.VideoStatus{PrivacyStatus: "unlisted"},
		}).Media(bytes.NewReader(data), googleapi.ChunkSize(256<<10), googleapi.ContentType("video/mp4")).Context(ctx).Do()
		if err != nil {
			t.Fatalf("insert %d bytes: %v", size, err)
		}
		if v.Id == "" || v.Status == nil || v.Status.PrivacyStatus != "unlisted" {
			t.Fatalf("video %+v", v)
		}
		list, err := svc.Videos.List([]string{"status", "processingDetails"}).Id(v.Id).Context(ctx).Do()
		if err != nil || len(list.Items) != 1 || list.Items[0].ProcessingDetails.ProcessingStatus != "succeeded" {
			t.Fatalf("list: %+v, %v", list, err)
		}
	}
	if f := sb.Faults(); len(f) != 0 {
		t.Errorf("the reset never happened: %+v", f)
	}
	posts := sb.Posts(sandbox.YouTube)
	if len(posts) != 2 || posts[0].Size != 700<<10 || posts[1].Size != 100<<10 {
		t.Fatalf("posts %+v", posts)
	}
}
