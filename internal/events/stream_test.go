package events_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"outpost/internal/events"
)

// TestStream: the stream opens with the retry hint, writes each event as
// id/event/data with its data compact on one line (non-JSON data as a JSON
// string), sends heartbeats while idle, and ends when the subscription
// does (after the export's last "done").
func TestStream(t *testing.T) {
	t.Parallel()
	ch := make(chan events.Event, 4)
	ch <- events.Event{Seq: 1, Type: events.TypeProgress, Data: json.RawMessage("{\n \"percent\": 50\n}")}
	ch <- events.Event{Seq: 2, Type: "rendition", Data: json.RawMessage("not json")}
	w := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		events.Stream(t.Context(), w, ch, 20*time.Millisecond)
	}()
	// Idle for a few heartbeats, then the end.
	time.AfterFunc(100*time.Millisecond, func() {
		ch <- events.Event{Seq: 3, Type: events.TypeDone}
		close(ch)
	})
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the stream did not end after done")
	}
	body := w.Body.String()
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "text/event-stream" {
		t.Errorf("status %d, content type %q", w.Code, w.Header().Get("Content-Type"))
	}
	for _, s := range []string{
		"retry: 3000\n\n",
		"id: 1\nevent: progress\ndata: {\"percent\":50}\n\n",
		"id: 2\nevent: rendition\ndata: \"not json\"\n\n",
		": heartbeat\n\n",
		"id: 3\nevent: done\ndata: {}\n\n",
	} {
		if !strings.Contains(body, s) {
			t.Errorf("stream lacks %q:\n%s", s, body)
		}
	}
	if !strings.HasPrefix(body, "retry: 3000\n\n") || !strings.HasSuffix(body, "event: done\ndata: {}\n\n") {
		t.Errorf("stream:\n%s", body)
	}
}

// TestLastEventID: the header, else the query parameter; a bad one is
// invalid_option.
func TestLastEventID(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("GET", "/x?last_event_id=7", nil)
	if n, err := events.LastEventID(r); n != 7 || err != nil {
		t.Errorf("query: %d %v", n, err)
	}
	r.Header.Set("Last-Event-ID", "12")
	if n, err := events.LastEventID(r); n != 12 || err != nil {
		t.Errorf("header: %d %v", n, err)
	}
	r.Header.Set("Last-Event-ID", "-1")
	if _, err := events.LastEventID(r); err == nil || !strings.Contains(err.Error(), "invalid_option") {
		t.Errorf("bad id: %v", err)
	}
}
