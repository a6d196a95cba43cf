package eta

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"

	"github.com/google/renameio/v2"
)

// History is what renders took on this node: per kind of render (Key), a
// moving average of their speed after warm-up. It is safe for concurrent
// use.
type History struct {
	mu    sync.Mutex
	kinds map[string]record
}

type record struct {
	Speed float64 `json:"speed"`
	Runs  int     `json:"runs"`
}

// historyWeight is the weight of the newest render in the average: recent
// renders say more about the machine as it is now.
const historyWeight = 0.3

// maxKinds bounds the file: the least used kinds go first.
const maxKinds = 500

// Key names a kind of render: renders of the same key run at about the
// same speed on one machine. Give the source's frame and rate and the
// targets with their quality, e.g. Key("1920x1080@30", "tiktok:hd",
// "youtube-1080p:web").
func Key(parts ...string) string { return strings.Join(parts, "|") }

// Prior returns the speed renders of key had, 0 when none was recorded.
func (h *History) Prior(key string) float64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.kinds[key].Speed
}

// Record adds a finished render's speed (Estimator.Speed).
func (h *History) Record(key string, speed float64) {
	if speed <= 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.kinds == nil {
		h.kinds = map[string]record{}
	}
	r := h.kinds[key]
	if r.Runs == 0 {
		r.Speed = speed
	} else {
		r.Speed = historyWeight*speed + (1-historyWeight)*r.Speed
	}
	r.Runs++
	h.kinds[key] = r
	if len(h.kinds) > maxKinds {
		least, n := "", 0
		for k, v := range h.kinds {
			if k != key && (least == "" || v.Runs < n) {
				least, n = k, v.Runs
			}
		}
		delete(h.kinds, least)
	}
}

// Load reads a History saved at path; a missing file is an empty History.
func Load(path string) (*History, error) {
	h := &History{kinds: map[string]record{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return h, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read render history: %w", err)
	}
	if err := json.Unmarshal(b, &h.kinds); err != nil {
		return nil, fmt.Errorf("render history %s is damaged: %w", path, err)
	}
	return h, nil
}

// Save writes the History to path atomically (mode 0600).
func (h *History) Save(path string) error {
	h.mu.Lock()
	b, err := json.Marshal(h.kinds)
	h.mu.Unlock()
	if err != nil {
		return fmt.Errorf("encode render history: %w", err)
	}
	if err := renameio.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("save render history: %w", err)
	}
	return nil
}
