package events

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"outpost/internal/errcode"
)

// Stream timings.
const (
	// RetryMillis is the reconnection delay a stream asks of its
	// EventSource clients (the browsers' own default).
	RetryMillis = 3000
	// DefaultHeartbeat is how often an idle stream sends a comment line, so
	// that proxies do not close it.
	DefaultHeartbeat = 15 * time.Second
)

// Stream writes ch as server-sent events until the end of ch (a
// subscription ends after the export's last "done"), or the end of ctx:
//
//	id: <seq>
//	event: progress | rendition | publication | done
//	data: <json>
//
// It writes the response's headers, and a comment line every heartbeat (0:
// DefaultHeartbeat). Once it has started nothing else can be written:
// failures end the stream.
func Stream(ctx context.Context, w http.ResponseWriter, ch <-chan Event, heartbeat time.Duration) {
	if heartbeat <= 0 {
		heartbeat = DefaultHeartbeat
	}
	rc := http.NewResponseController(w)
	// A stream outlives any server-wide write timeout.
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprintf(w, "retry: %d\n\n", RetryMillis); err != nil {
		return
	}
	if err := rc.Flush(); err != nil {
		return
	}
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	var buf bytes.Buffer
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if _, err := fmt.Fprint(w, ": heartbeat\n\n"); err != nil {
				return
			}
		case ev, ok := <-ch:
			if !ok {
				return
			}
			buf.Reset()
			writeEvent(&buf, ev)
			if _, err := w.Write(buf.Bytes()); err != nil {
				return
			}
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// writeEvent formats one event. Data is written compact, on one line.
func writeEvent(buf *bytes.Buffer, ev Event) {
	fmt.Fprintf(buf, "id: %d\n", ev.Seq)
	if t := strings.NewReplacer("\r", "", "\n", "").Replace(ev.Type); t != "" {
		fmt.Fprintf(buf, "event: %s\n", t)
	}
	buf.WriteString("data: ")
	data := ev.Data
	if len(data) == 0 {
		data = json.RawMessage("{}")
	}
	if !json.Valid(data) {
		// Not JSON: send it as a JSON string rather than break the stream.
		data, _ = json.Marshal(string(data))
	}
	_ = json.Compact(buf, data) // valid: cannot fail
	buf.WriteString("\n\n")
}

// LastEventID reads where a reconnecting client left off: the Last-Event-ID
// header (sent by EventSource on reconnect), else ?last_event_id=.
func LastEventID(r *http.Request) (int64, error) {
	v := r.Header.Get("Last-Event-ID")
	if v == "" {
		v = r.URL.Query().Get("last_event_id")
	}
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 {
		return 0, errcode.New(errcode.InvalidOption, "Last-Event-ID %q: want the id of an event of this stream", v)
	}
	return n, nil
}
