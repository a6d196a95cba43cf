package cli

import (
	"fmt"
	"time"

	"github.com/schollz/progressbar/v3"

	"outpost/internal/engine"
)

var stageTitles = map[string]string{
	engine.StageProbe:  "Probing source  ",
	engine.StageAudio:  "Processing audio",
	engine.StageRender: "Rendering video ",
	engine.StageCheck:  "Checking outputs",
}

// progress shows export events: a bar per stage with ETA on a terminal,
// plain lines (at most one a second per stage) when piped.
type progress struct {
	env   *Env
	stage string
	bar   *progressbar.ProgressBar
	last  time.Time
	now   func() time.Time
}

func newProgress(env *Env) *progress {
	return &progress{env: env, now: time.Now}
}

func (p *progress) update(ev engine.Event) {
	if ev.Stage != p.stage {
		p.finishBar()
		p.stage = ev.Stage
		p.last = time.Time{}
		if p.env.IsTerminal {
			p.bar = progressbar.NewOptions(100,
				progressbar.OptionSetWriter(p.env.Stderr),
				progressbar.OptionSetDescription(stageTitles[ev.Stage]),
				progressbar.OptionSetWidth(30),
				progressbar.OptionShowElapsedTimeOnFinish(),
				progressbar.OptionSetPredictTime(true),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionClearOnFinish(),
			)
		}
	}
	if p.bar != nil {
		if ev.Stage == engine.StageRender && ev.FPS > 0 {
			p.bar.Describe(fmt.Sprintf("%s %4.0f fps %4.1fx", stageTitles[ev.Stage], ev.FPS, ev.Speed))
		}
		_ = p.bar.Set(int(ev.Percent))
		return
	}
	now := p.now()
	if !ev.Done && now.Sub(p.last) < time.Second {
		return
	}
	p.last = now
	line := fmt.Sprintf("%s %5.1f%%", ev.Stage, ev.Percent)
	if ev.FPS > 0 {
		line += fmt.Sprintf(" fps=%.0f speed=%.2fx", ev.FPS, ev.Speed)
	}
	if ev.ETA > 0 && !ev.Done {
		line += " eta=" + ev.ETA.Round(time.Second).String()
	}
	if ev.Done {
		line += " done"
	}
	fmt.Fprintln(p.env.Stderr, line)
}

func (p *progress) finishBar() {
	if p.bar != nil {
		_ = p.bar.Finish()
		fmt.Fprintf(p.env.Stderr, "%s done\n", stageTitles[p.stage])
		p.bar = nil
	}
}

func (p *progress) finish() { p.finishBar() }
