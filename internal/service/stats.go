package service

import (
	"context"
	"encoding/json"
	"log/slog"
	"path"
	"strings"
	"time"

	"outpost/internal/outpost"
	"outpost/internal/store"
)

// dateLayout is a day, as stats name them.
const dateLayout = "2006-01-02"

// Stats are the tracking events of a workspace.
type Stats struct {
	store  *store.Store
	logger *slog.Logger
}

var _ outpost.Stats = (*Stats)(nil)

// Count counts the workspace's events per UTC day and type from from to
// to, both included; every day of the range is listed.
func (s *Stats) Count(ctx context.Context, workspaceID string, from, to time.Time) (outpost.StatsReport, error) {
	counts, err := s.store.CountEventsByDay(ctx, store.EventFilter{WorkspaceID: workspaceID, Since: from, Until: to.AddDate(0, 0, 1)})
	if err != nil {
		return outpost.StatsReport{}, err
	}
	out := outpost.StatsReport{From: from.Format(dateLayout), To: to.Format(dateLayout)}
	index := map[string]int{}
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		index[d.Format(dateLayout)] = len(out.Days)
		out.Days = append(out.Days, outpost.StatsDay{Date: d.Format(dateLayout), Counts: map[string]int64{}})
	}
	for _, c := range counts {
		if i, ok := index[c.Date]; ok {
			out.Days[i].Counts[c.Type] += c.Count
		}
	}
	return out, nil
}

// Record stores a tracking event; a failure is logged, never returned.
func (s *Stats) Record(ctx context.Context, workspaceID, typ, subjectID string, payload any) {
	ev := store.Event{WorkspaceID: workspaceID, Type: typ, SubjectID: subjectID}
	if payload != nil {
		if raw, err := json.Marshal(payload); err == nil {
			ev.Payload = raw
		}
	}
	if _, err := s.store.InsertEvent(ctx, ev); err != nil {
		s.logger.WarnContext(ctx, "record tracking event", "type", typ, "error", err)
	}
}

// download is the payload of a rendition.downloaded event.
type download struct {
	ExportID string `json:"export_id"`
	Preset   string `json:"preset,omitempty"`
	BlobKey  string `json:"blob_key"`
}

// RecordDownload records rendition.downloaded for a file served by its
// signed link: renditions/<export id>/<file>. Renditions that one encode
// served share their file's key: the link's file name
// ("<project>-<preset>.<ext>", views.downloadName) tells them apart.
func (s *Stats) RecordDownload(ctx context.Context, blobKey, linkName string) {
	parts := strings.Split(blobKey, "/")
	if len(parts) != 3 || parts[0] != "renditions" {
		return
	}
	x, err := s.store.GetExport(ctx, parts[1])
	if err != nil {
		return
	}
	subject, d := x.ID, download{ExportID: x.ID, BlobKey: blobKey}
	if rends, err := s.store.ListRenditions(ctx, x.ID); err == nil {
		for _, rd := range rends {
			if rd.BlobKey == blobKey && (subject == x.ID || strings.HasSuffix(linkName, "-"+rd.PresetID+path.Ext(blobKey))) {
				subject, d.Preset = rd.ID, rd.PresetID
			}
		}
	}
	s.Record(ctx, x.WorkspaceID, outpost.EventRenditionDownloaded, subject, d)
}
