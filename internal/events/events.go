// Package events carries the live progress of exports to their watchers (the
// SSE streams of the API and the web UI) across processes: every event is
// stored (Store, the database) before it is announced, so a watcher in
// another process, or one that reconnects with the last Seq it saw, reads
// what it missed from the database. A Broker polls the database for
// watchers and wakes them at once when the event was published in its own
// process. Stream writes a subscription as server-sent events.
package events

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"outpost/internal/errcode"
)

// Event types.
const (
	TypeProgress  = "progress"
	TypeRendition = "rendition"
	// TypePublication reports a publication's state and upload progress.
	TypePublication = "publication"
	TypeDone        = "done"
)

// Event is one live event of an export.
type Event struct {
	// Seq increases per export; it is the SSE id, and Subscribe's afterSeq.
	Seq      int64           `json:"seq"`
	ExportID string          `json:"export_id"`
	Type     string          `json:"type"` // "progress" | "rendition" | "publication" | "done"
	Data     json.RawMessage `json:"data"`
}

// Progress is the data of a "progress" event.
type Progress struct {
	// Stage is "queued", "probe", "audio", "render", "check" or "store".
	Stage      string  `json:"stage"`
	Percent    float64 `json:"percent"`
	FPS        float64 `json:"fps"`
	Speed      float64 `json:"speed"`
	ETASeconds float64 `json:"eta_seconds"`
}

// Rendition is the data of a "rendition" event: one target finished (or
// failed). It has no URL: links are signed when they are served.
type Rendition struct {
	ID        string  `json:"id"`
	Preset    string  `json:"preset"`
	Status    string  `json:"status"`
	SizeBytes int64   `json:"size_bytes"`
	Duration  float64 `json:"duration_seconds"`
	Width     int     `json:"width"`
	Height    int     `json:"height"`
	Error     *Error  `json:"error"`
}

// Error is a failure in an event.
type Error struct {
	Code    errcode.Code `json:"code"`
	Message string       `json:"message"`
}

// Publication is the data of a "publication" event: one destination's
// state, and while uploading the bytes sent.
type Publication struct {
	ID           string `json:"id"`
	Platform     string `json:"platform"`
	ConnectionID string `json:"connection_id"`
	Preset       string `json:"preset"`
	// Stage is always "publish".
	Stage string `json:"stage"`
	// State is pending, scheduled, uploading, processing, published,
	// failed or canceled.
	State      string  `json:"state"`
	BytesSent  int64   `json:"bytes_sent"`
	BytesTotal int64   `json:"bytes_total"`
	Percent    float64 `json:"percent"`
	PostURL    string  `json:"post_url,omitempty"`
	Error      *Error  `json:"error"`
}

// Done is the data of the last event of an export run: its final status
// ("succeeded", "partially_failed", "failed" or "canceled"), about the
// render. When the export has destinations, "done" waits until every
// publication that is due (not scheduled for later) is final, and lists
// them; a scheduled publication that goes out later, or one added to the
// finished export, sends its own "publication" events and then another
// "done".
type Done struct {
	Status       string        `json:"status"`
	Publications []Publication `json:"publications,omitempty"`
}

// Defaults for Options.
const (
	DefaultPollInterval = 400 * time.Millisecond
	DefaultBuffer       = 64
)

// Options tune a Broker.
type Options struct {
	// PollInterval is how often a subscriber reads the database for events
	// published by other processes. Default DefaultPollInterval.
	PollInterval time.Duration
	// Buffer is each subscription channel's capacity. Default DefaultBuffer.
	Buffer int
	Logger *slog.Logger
}

// Store keeps the events in the database (store.Store.EventLog).
type Store interface {
	// InsertEvent stores an event, in tx when it is not nil, and returns
	// it with its Seq.
	InsertEvent(ctx context.Context, tx *sql.Tx, exportID, typ string, data json.RawMessage) (Event, error)
	// ListEvents returns up to limit of the export's events with Seq
	// greater than afterSeq, oldest first.
	ListEvents(ctx context.Context, exportID string, afterSeq int64, limit int) ([]Event, error)
	// ExportState reports whether the export exists and whether it is
	// settled: final, with no publication going out now.
	ExportState(ctx context.Context, exportID string) (exists, settled bool, err error)
}

// Broker stores and delivers export events. It is safe for concurrent use.
type Broker struct {
	store  Store
	poll   time.Duration
	buffer int
	logger *slog.Logger

	mu     sync.Mutex
	subs   map[string]map[*subscription]struct{} // by export id
	closed bool
	done   chan struct{} // closed by Close
}

type subscription struct {
	wake chan struct{} // buffered 1: "read the database now"
}

// NewBroker returns a broker over s.
func NewBroker(s Store, opts Options) *Broker {
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.Buffer <= 0 {
		opts.Buffer = DefaultBuffer
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Broker{
		store:  s,
		poll:   opts.PollInterval,
		buffer: opts.Buffer,
		logger: opts.Logger,
		subs:   map[string]map[*subscription]struct{}{},
		done:   make(chan struct{}),
	}
}

// Publish stores an event and wakes the export's subscribers in this
// process. data is marshalled to JSON (a json.RawMessage is kept as is).
func (b *Broker) Publish(ctx context.Context, exportID, typ string, data any) (Event, error) {
	ev, err := b.insert(ctx, nil, exportID, typ, data)
	if err != nil {
		return Event{}, err
	}
	b.Notify(exportID)
	return ev, nil
}

// PublishTx stores an event in tx, so that it commits with the rows it is
// about. Call Notify after the commit to wake subscribers at once (they
// would otherwise see it at their next poll).
func (b *Broker) PublishTx(ctx context.Context, tx *sql.Tx, exportID, typ string, data any) (Event, error) {
	if tx == nil {
		return Event{}, fmt.Errorf("publish %s event: no transaction", typ)
	}
	return b.insert(ctx, tx, exportID, typ, data)
}

func (b *Broker) insert(ctx context.Context, tx *sql.Tx, exportID, typ string, data any) (Event, error) {
	raw, err := marshal(data)
	if err != nil {
		return Event{}, fmt.Errorf("publish %s event: %w", typ, err)
	}
	ev, err := b.store.InsertEvent(ctx, tx, exportID, typ, raw)
	if err != nil {
		return Event{}, fmt.Errorf("publish %s event: %w", typ, err)
	}
	return ev, nil
}

func marshal(data any) (json.RawMessage, error) {
	switch v := data.(type) {
	case nil:
		return json.RawMessage("{}"), nil
	case json.RawMessage:
		return v, nil
	}
	return json.Marshal(data)
}

// Notify wakes the export's subscribers in this process, so that they read
// the database now rather than at their next poll.
func (b *Broker) Notify(exportID string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs[exportID] {
		select {
		case s.wake <- struct{}{}:
		default: // already due to read
		}
	}
}

// Subscribe returns the export's events with Seq greater than afterSeq:
// first those already stored, then new ones as they are published, here or
// in another process. The channel is closed after the "done" event that
// ends the export's events for now (the last one, with no publication
// going out: publications added to a finished export come after its first
// "done"), when ctx ends, or when the broker closes. An export that does not exist gives
// an error with errcode.NotFound; one that had already finished when the
// caller saw its "done" (afterSeq at or past it) gives a closed channel.
func (b *Broker) Subscribe(ctx context.Context, exportID string, afterSeq int64) (<-chan Event, error) {
	if exists, _, err := b.store.ExportState(ctx, exportID); err != nil {
		return nil, err
	} else if !exists {
		return nil, errcode.New(errcode.NotFound, "export %s not found", exportID)
	}
	sub := &subscription{wake: make(chan struct{}, 1)}
	// Registered before the first read, so that no publish falls between
	// the read and the registration.
	if !b.add(exportID, sub) {
		ch := make(chan Event)
		close(ch)
		return ch, nil
	}
	ch := make(chan Event, b.buffer)
	go b.run(ctx, exportID, afterSeq, sub, ch)
	return ch, nil
}

func (b *Broker) add(exportID string, sub *subscription) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	m := b.subs[exportID]
	if m == nil {
		m = map[*subscription]struct{}{}
		b.subs[exportID] = m
	}
	m[sub] = struct{}{}
	return true
}

func (b *Broker) remove(exportID string, sub *subscription) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.subs[exportID], sub)
	if len(b.subs[exportID]) == 0 {
		delete(b.subs, exportID)
	}
}

// run feeds one subscription until done, ctx or Close.
func (b *Broker) run(ctx context.Context, exportID string, last int64, sub *subscription, ch chan<- Event) {
	defer close(ch)
	defer b.remove(exportID, sub)
	ticker := time.NewTicker(b.poll)
	defer ticker.Stop()
	first := true
	for {
		evs, err := b.store.ListEvents(ctx, exportID, last, 500)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			b.logger.WarnContext(ctx, "read export events", "export_id", exportID, "error", err)
		}
		for _, ev := range evs {
			select {
			case ch <- ev:
			case <-ctx.Done():
				return
			case <-b.done:
				return
			}
			last = ev.Seq
			// A "done" ends the stream unless more follows: posts added to
			// a finished export send their events, then another "done".
			if ev.Type == TypeDone && b.finished(ctx, exportID, last) {
				return
			}
		}
		if len(evs) == 500 {
			continue // more to replay
		}
		if first {
			first = false
			// The caller may have seen the "done" already: a finished
			// export has nothing more to say.
			if err == nil && b.finished(ctx, exportID, last) {
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-b.done:
			return
		case <-sub.wake:
		case <-ticker.C:
		}
	}
}

// finished reports whether the export is final (or gone) with no event
// after last: its "done" event commits with its final status, so the
// subscriber has seen it, or subscribed past it.
func (b *Broker) finished(ctx context.Context, exportID string, last int64) bool {
	// Publications still going out keep the stream open until their "done".
	exists, settled, err := b.store.ExportState(ctx, exportID)
	if err != nil {
		return false
	}
	if !exists {
		return true
	}
	if !settled {
		return false
	}
	// Read again: the export may have finished since the last read.
	evs, err := b.store.ListEvents(ctx, exportID, last, 1)
	return err == nil && len(evs) == 0
}

// Close ends every subscription (their channels close without a "done":
// SSE clients reconnect elsewhere) and refuses new ones. Use it when the
// server shuts down, so that streaming requests end.
func (b *Broker) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.closed = true
		close(b.done)
	}
}
