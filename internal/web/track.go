package web

import (
	"net/http"
	"path"
	"strings"

	"outpost/internal/store"
)

// historyView is the payload of a history.viewed event: the filters the
// history was viewed with.
type historyView struct {
	Status   string `json:"status,omitempty"`
	Client   string `json:"client,omitempty"`
	Campaign string `json:"campaign,omitempty"`
	Preset   string `json:"preset,omitempty"`
	Q        string `json:"q,omitempty"`
}

// trackHistoryView records a history.viewed event for each successful first
// page of the export history (further pages are the same view).
func (s *Server) trackHistoryView(next handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := next(w, r); err != nil {
			return err
		}
		q := r.URL.Query()
		if q.Get("cursor") == "" {
			s.record(r, store.Event{WorkspaceID: workspaceOf(r), Type: EventHistoryViewed}, historyView{
				Status: q.Get("status"), Client: q.Get("client"), Campaign: q.Get("campaign"),
				Preset: q.Get("preset"), Q: q.Get("q"),
			})
		}
		return nil
	}
}

// download is the payload of a rendition.downloaded event.
type download struct {
	ExportID string `json:"export_id"`
	Preset   string `json:"preset,omitempty"`
	BlobKey  string `json:"blob_key"`
}

// trackDownloads records a rendition.downloaded event for each download
// served through a signed /dl/ link (file storage; S3 links are presigned
// and go to the store directly). A download is a GET answered 200, or 206
// for a range from byte 0: players and download managers fetch a file in
// several ranges, and only the first one counts.
func (s *Server) trackDownloads(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := &codeWriter{ResponseWriter: w}
		next.ServeHTTP(cw, r)
		if r.Method != http.MethodGet {
			return
		}
		if cw.code != http.StatusOK && !(cw.code == http.StatusPartialContent && strings.HasPrefix(r.Header.Get("Range"), "bytes=0-")) {
			return
		}
		// The handler checked the link's signature, so obj is the key it
		// served: renditions/<export id>/<file>.
		key := r.URL.Query().Get("obj")
		parts := strings.Split(key, "/")
		if len(parts) != 3 || parts[0] != "renditions" {
			return
		}
		x, err := s.store.GetExport(r.Context(), parts[1])
		if err != nil {
			return
		}
		ev := store.Event{WorkspaceID: x.WorkspaceID, Type: EventRenditionDownloaded, SubjectID: x.ID}
		d := download{ExportID: x.ID, BlobKey: key}
		if rends, err := s.store.ListRenditions(r.Context(), x.ID); err == nil {
			// Renditions that share one file share its key: the link's
			// file name ("<project>-<preset>.<ext>") tells them apart.
			name := path.Base(r.URL.Path)
			for _, rd := range rends {
				if rd.BlobKey == key && (ev.SubjectID == x.ID || strings.HasSuffix(name, "-"+rd.PresetID+path.Ext(key))) {
					ev.SubjectID, d.Preset = rd.ID, rd.PresetID
				}
			}
		}
		s.record(r, ev, d)
	})
}

// codeWriter remembers the response status. Unwrap keeps
// http.ResponseController working through it.
type codeWriter struct {
	http.ResponseWriter
	code int
}

func (w *codeWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *codeWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *codeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
