// Package dataexport writes a workspace's data export (GDPR/CCPA "take my
// data"): one zip with JSON of its members, projects, exports, renditions,
// publications, presets, brand kits and webhooks, with download links to
// the files still stored. It never writes tokens, secrets or password
// hashes: the store's types leave them out of JSON (`json:"-"`), and
// connections (whose rows hold sealed tokens) are not exported.
package dataexport

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path"
	"time"

	"outpost/internal/store"
)

// FormatVersion is the version of the zip's layout, in manifest.json.
const FormatVersion = 1

// LinkFunc returns a download link to the stored file at key, saved as
// filename (blob.Store.SignedURL with a TTL, for instance).
type LinkFunc func(ctx context.Context, key, filename string) (string, error)

// Source is what the export reads (*store.Store and *store.Queries have
// it).
type Source interface {
	GetWorkspace(ctx context.Context, id string) (store.Workspace, error)
	ListMembers(ctx context.Context, workspaceID string) ([]store.Member, error)
	ListProjects(ctx context.Context, f store.ProjectFilter) (store.ProjectPage, error)
	ListExports(ctx context.Context, f store.ExportFilter) (store.ExportPage, error)
	ListRenditions(ctx context.Context, exportID string) ([]store.Rendition, error)
	ListPublications(ctx context.Context, exportID string) ([]store.Publication, error)
	ListPresets(ctx context.Context, workspaceID string) ([]store.Preset, error)
	ListBrandKits(ctx context.Context, workspaceID string) ([]store.BrandKit, error)
	ListWebhookEndpoints(ctx context.Context, workspaceID string) ([]store.WebhookEndpoint, error)
}

// Manifest is manifest.json: what the zip holds.
type Manifest struct {
	Format      string          `json:"format"`
	Version     int             `json:"version"`
	Workspace   store.Workspace `json:"workspace"`
	GeneratedAt time.Time       `json:"generated_at"`
	Files       []string        `json:"files"`
	Note        string          `json:"note"`
}

// Project is a project with a link to its source file, while stored.
type Project struct {
	store.Project
	SourceLink    string `json:"source_link,omitempty"`
	ThumbnailLink string `json:"thumbnail_link,omitempty"`
}

// Rendition is a rendition with links to its files, while stored.
type Rendition struct {
	store.Rendition
	DownloadLink  string `json:"download_link,omitempty"`
	ThumbnailLink string `json:"thumbnail_link,omitempty"`
	CaptionsLink  string `json:"captions_link,omitempty"`
}

// BrandKit is a brand kit with a link to its watermark, while stored.
type BrandKit struct {
	store.BrandKit
	WatermarkLink string `json:"watermark_link,omitempty"`
}

// files are the zip's JSON files in the order written.
var files = []string{"manifest.json", "members.json", "projects.json", "exports.json", "renditions.json",
	"publications.json", "presets.json", "brand_kits.json", "webhooks.json"}

// Write writes the workspace's data export to w as a zip. Links come from
// link and live as long as it makes them; at is the export's time.
func Write(ctx context.Context, w io.Writer, src Source, workspaceID string, link LinkFunc, at time.Time) error {
	ws, err := src.GetWorkspace(ctx, workspaceID)
	if err != nil {
		return fmt.Errorf("data export: %w", err)
	}
	x := &exporter{ctx: ctx, src: src, ws: ws, link: link, zw: zip.NewWriter(w), at: at.UTC()}
	steps := []func() error{x.manifest, x.members, x.projects, x.exports, x.renditions, x.publications,
		x.presets, x.brandKits, x.webhooks}
	for i, step := range steps {
		if err := step(); err != nil {
			return fmt.Errorf("data export: %s: %w", files[i], err)
		}
	}
	if err := x.zw.Close(); err != nil {
		return fmt.Errorf("data export: close zip: %w", err)
	}
	return nil
}

type exporter struct {
	ctx  context.Context
	src  Source
	ws   store.Workspace
	link LinkFunc
	zw   *zip.Writer
	at   time.Time
}

// array writes one zip entry holding a JSON array, one element at a time,
// so a large workspace is never held in memory whole.
type array struct {
	w io.Writer
	n int
}

func (x *exporter) array(name string) (*array, error) {
	w, err := x.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: x.at})
	if err != nil {
		return nil, err
	}
	_, err = io.WriteString(w, "[")
	return &array{w: w}, err
}

func (a *array) add(v any) error {
	b, err := json.MarshalIndent(v, "  ", "  ")
	if err != nil {
		return err
	}
	sep := ",\n  "
	if a.n == 0 {
		sep = "\n  "
	}
	a.n++
	if _, err := io.WriteString(a.w, sep); err != nil {
		return err
	}
	_, err = a.w.Write(b)
	return err
}

func (a *array) close() error {
	end := "]\n"
	if a.n > 0 {
		end = "\n]\n"
	}
	_, err := io.WriteString(a.w, end)
	return err
}

// writeAll writes items as one JSON array entry.
func writeAll[T any](x *exporter, name string, items []T) error {
	a, err := x.array(name)
	if err != nil {
		return err
	}
	for _, it := range items {
		if err := a.add(it); err != nil {
			return err
		}
	}
	return a.close()
}

func (x *exporter) manifest() error {
	w, err := x.zw.CreateHeader(&zip.FileHeader{Name: "manifest.json", Method: zip.Deflate, Modified: x.at})
	if err != nil {
		return err
	}
	m := Manifest{Format: "outpost-workspace-export", Version: FormatVersion, Workspace: x.ws, GeneratedAt: x.at,
		Files: files[1:], Note: "Links to stored files (*_link) expire; ask for a new export for fresh ones. " +
			"Posts stay on the platforms; their URLs are in publications.json."}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(m)
}

// fileLink returns a link to key, or "" when there is no file.
func (x *exporter) fileLink(key, filename string) (string, error) {
	if key == "" {
		return "", nil
	}
	if filename == "" {
		filename = path.Base(key)
	}
	return x.link(x.ctx, key, filename)
}

func (x *exporter) members() error {
	ms, err := x.src.ListMembers(x.ctx, x.ws.ID)
	if err != nil {
		return err
	}
	return writeAll(x, "members.json", ms)
}

func (x *exporter) projects() error {
	next := func(cursor string) ([]store.Project, string, error) {
		page, err := x.src.ListProjects(x.ctx, store.ProjectFilter{WorkspaceID: x.ws.ID, Limit: 500, Cursor: cursor})
		return page.Projects, page.NextCursor, err
	}
	return writePages(x, "projects.json", next, func(p store.Project) ([]Project, error) {
		p.SourceURL = redactURL(p.SourceURL)
		out := Project{Project: p}
		var err error
		if out.SourceLink, err = x.fileLink(p.SourceKey, ""); err != nil {
			return nil, err
		}
		if out.ThumbnailLink, err = x.fileLink(p.ThumbnailKey, ""); err != nil {
			return nil, err
		}
		return []Project{out}, nil
	})
}

// writePages writes one array entry holding the items fn returns for every
// row of every page next returns (from cursor "" until a page has no next
// cursor), so a large workspace is read a page at a time.
func writePages[R, T any](x *exporter, name string, next func(cursor string) ([]R, string, error), fn func(R) ([]T, error)) error {
	a, err := x.array(name)
	if err != nil {
		return err
	}
	cursor := ""
	for {
		rows, nextCursor, err := next(cursor)
		if err != nil {
			return err
		}
		for _, r := range rows {
			items, err := fn(r)
			if err != nil {
				return err
			}
			for _, it := range items {
				if err := a.add(it); err != nil {
					return err
				}
			}
		}
		if cursor = nextCursor; cursor == "" {
			return a.close()
		}
	}
}

// perExport writes one array entry holding, for every export of the
// workspace (newest first), the items fn returns for it.
func perExport[T any](x *exporter, name string, fn func(store.Export) ([]T, error)) error {
	next := func(cursor string) ([]store.Export, string, error) {
		page, err := x.src.ListExports(x.ctx, store.ExportFilter{WorkspaceID: x.ws.ID, Limit: 500, Cursor: cursor})
		return page.Exports, page.NextCursor, err
	}
	return writePages(x, name, next, fn)
}

func (x *exporter) exports() error {
	return perExport(x, "exports.json", func(e store.Export) ([]store.Export, error) { return []store.Export{e}, nil })
}

func (x *exporter) renditions() error {
	return perExport(x, "renditions.json", func(e store.Export) ([]Rendition, error) {
		rs, err := x.src.ListRenditions(x.ctx, e.ID)
		if err != nil {
			return nil, err
		}
		out := make([]Rendition, len(rs))
		for i, r := range rs {
			out[i] = Rendition{Rendition: r}
			if r.DeletedAt != nil || r.Status != store.RenditionSucceeded {
				continue // no file to link to
			}
			if out[i].DownloadLink, err = x.fileLink(r.BlobKey, ""); err != nil {
				return nil, err
			}
			if out[i].ThumbnailLink, err = x.fileLink(r.ThumbnailKey, ""); err != nil {
				return nil, err
			}
			if out[i].CaptionsLink, err = x.fileLink(r.CaptionsKey, ""); err != nil {
				return nil, err
			}
		}
		return out, nil
	})
}

func (x *exporter) publications() error {
	return perExport(x, "publications.json", func(e store.Export) ([]store.Publication, error) {
		return x.src.ListPublications(x.ctx, e.ID)
	})
}

func (x *exporter) presets() error {
	ps, err := x.src.ListPresets(x.ctx, x.ws.ID)
	if err != nil {
		return err
	}
	return writeAll(x, "presets.json", ps)
}

func (x *exporter) brandKits() error {
	ks, err := x.src.ListBrandKits(x.ctx, x.ws.ID)
	if err != nil {
		return err
	}
	out := make([]BrandKit, len(ks))
	for i, k := range ks {
		out[i] = BrandKit{BrandKit: k}
		if out[i].WatermarkLink, err = x.fileLink(k.WatermarkKey, ""); err != nil {
			return err
		}
	}
	return writeAll(x, "brand_kits.json", out)
}

func (x *exporter) webhooks() error {
	ws, err := x.src.ListWebhookEndpoints(x.ctx, x.ws.ID)
	if err != nil {
		return err
	}
	return writeAll(x, "webhooks.json", ws)
}

// redactURL hides a password in a source URL.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	return u.Redacted()
}
