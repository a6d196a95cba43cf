package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/events"
)

// exportEvents streams an export's progress as server-sent events:
//
//	id: <seq>
//	event: progress | rendition | done
//	data: <json>
//
// A reconnect with Last-Event-ID (or ?last_event_id=) resumes after that
// event. A comment line every heartbeat keeps proxies from closing an idle
// stream. The stream ends after the done event.
func (s *Server) exportEvents(w http.ResponseWriter, r *http.Request) error {
	e, err := s.exportInWorkspace(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	after, err := lastEventID(r)
	if err != nil {
		return err
	}
	if s.events == nil {
		return errcode.New(errcode.Internal, "live progress is not available on this server")
	}
	ctx := r.Context()
	ch, err := s.events.Subscribe(ctx, e.ID, after)
	if err != nil {
		return err
	}

	rc := http.NewResponseController(w)
	// A stream outlives any server-wide write timeout.
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	// From here on the status is sent: failures end the stream, nothing more.
	if _, err := fmt.Fprint(w, "retry: 3000\n\n"); err != nil {
		return nil
	}
	if err := rc.Flush(); err != nil {
		s.logger.WarnContext(ctx, "sse flush", slog.Any("error", err))
		return nil
	}
	heartbeat := time.NewTicker(s.heartbeat)
	defer heartbeat.Stop()
	var buf bytes.Buffer
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-heartbeat.C:
			if _, err := fmt.Fprint(w, ": heartbeat\n\n"); err != nil {
				return nil
			}
		case ev, ok := <-ch:
			if !ok {
				return nil
			}
			buf.Reset()
			writeEvent(&buf, ev)
			if _, err := w.Write(buf.Bytes()); err != nil {
				return nil
			}
			if ev.Type == "done" {
				_ = rc.Flush()
				return nil
			}
		}
		if err := rc.Flush(); err != nil {
			return nil
		}
	}
}

// writeEvent formats one event. Data is written compact, on one line.
func writeEvent(buf *bytes.Buffer, ev events.Event) {
	fmt.Fprintf(buf, "id: %d\n", ev.Seq)
	if t := oneLine(ev.Type); t != "" {
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

func oneLine(s string) string {
	return strings.NewReplacer("\r", "", "\n", "").Replace(s)
}

// lastEventID reads where a reconnecting client left off: the Last-Event-ID
// header (sent by EventSource on reconnect), else ?last_event_id=.
func lastEventID(r *http.Request) (int64, error) {
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
