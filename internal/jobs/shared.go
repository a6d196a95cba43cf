package jobs

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"outpost/internal/blob"
	"outpost/internal/engine"
	"outpost/internal/store"
)

// Renditions that one encode served (targets whose files are the same
// bytes: engine.Result.SharesFileWith) are stored once: they share one blob
// key. A shared file leaves storage only when the last rendition holding it
// lets it go (store.CountFileHolders): retention, pins, saves and
// cancellation all count holders, so deleting one rendition never deletes a
// file another still needs. No copy is made on any store: a blob key is
// just a name, on fileblob and S3 alike.

// fileKeys returns the blob key of each result's file (results[i] is
// rends[i]; names are the request's file names by target index): its own
// name, or, for results that are one file, one key for all of them named
// after every member ("instagram-reel+tiktok.mp4"). The name depends only
// on which targets share the file: a retry that renders the same group
// writes the same key, one that renders fewer of them (the others were
// stored) another, so it never overwrites a file a stored rendition holds.
// Failed results get "".
func fileKeys(exportID string, results []engine.Result, rends []store.Rendition, names []string) ([]string, error) {
	delivered := func(r engine.Result) bool { return r.Path != "" && r.Error == nil && r.Output != nil }
	members := map[string][]int{}
	for i, r := range results {
		if delivered(r) {
			members[r.Output.File()] = append(members[r.Output.File()], i)
		}
	}
	keys := make([]string, len(results))
	for i, r := range results {
		if !delivered(r) {
			continue
		}
		name := names[rends[i].TargetIndex]
		if ms := members[r.Output.File()]; len(ms) > 1 {
			parts := make([]string, len(ms))
			for k, m := range ms {
				n := names[rends[m].TargetIndex]
				parts[k] = strings.TrimSuffix(n, path.Ext(n))
			}
			name = strings.Join(parts, "+") + path.Ext(name)
		}
		key, err := blob.RenditionKey(exportID, name)
		if err != nil {
			return nil, err
		}
		keys[i] = key
	}
	return keys, nil
}

// releaseFile deletes the file at key from blob storage unless a rendition
// other than holderID still holds it (store.CountFileHolders, the rule
// deletions follow too). A file already gone is fine (a cleanup killed
// after the delete, before it marked the rendition); an empty key is
// nothing to release.
func releaseFile(ctx context.Context, st *store.Store, b *blob.Store, key, holderID string) error {
	if key == "" {
		return nil
	}
	n, err := st.CountFileHolders(ctx, key, holderID)
	if err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if err := b.Delete(ctx, key); err != nil && !errors.Is(err, blob.ErrNotFound) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}
