package service

import (
	"time"

	"outpost/internal/outpost"
	"outpost/internal/publish"
	"outpost/internal/publish/platforms"
)

// Platforms are the publishing platforms, in display order, as their
// descriptors describe them, with whether this server can connect them.
func (s *Connections) Platforms() []outpost.Platform {
	all := platforms.All()
	out := make([]outpost.Platform, len(all))
	for i, d := range all {
		out[i] = platformView(d, s.connect != nil && s.connect.Configured(d.ID))
	}
	return out
}

// platformView is the part of a descriptor the interfaces show.
func platformView(d publish.Descriptor, configured bool) outpost.Platform {
	secs := func(d time.Duration) int64 { return int64(d / time.Second) }
	f := d.Features
	return outpost.Platform{ID: d.ID, Name: d.Name, Icon: d.Icon, Env: d.Env, Fields: d.Fields, Presets: d.Presets,
		Schedule: outpost.Schedule{Native: f.NativeSchedule, MinAheadSeconds: secs(f.MinScheduleAhead),
			MaxAheadSeconds: secs(f.MaxScheduleAhead)},
		Configured: configured}
}
