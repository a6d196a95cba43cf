package ui

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"outpost/internal/errcode"
	"outpost/internal/outpost"
	"outpost/internal/preset"
)

// builtinRow is a built-in preset on the presets page.
type builtinRow struct {
	preset.Preset
	Icon  string
	Size  string
	File  string
	Rules []string
}

// userRow is a user preset on the presets page.
type userRow struct {
	outpost.Preset
	BaseName string
	Icon     string
	Summary  string
}

type presetsData struct {
	Builtins []builtinRow
	User     []userRow
	Edit     string // id of the preset whose form is open
	// Qualities, Fits and CaptionsModes are the fields' choices, in words;
	// BrandKits the workspace's kits.
	Qualities     []choice
	Fits          []choice
	CaptionsModes []choice
	BrandKits     []outpost.BrandKit
}

func (h *Handler) presetsPage(w http.ResponseWriter, r *http.Request) error {
	ctx, ws := r.Context(), workspaceOf(r)
	list, err := h.svc.Presets.List(ctx, ws)
	if err != nil {
		return err
	}
	d := presetsView(list, r.URL.Query().Get("edit"))
	if d.BrandKits, err = h.svc.BrandKits.List(ctx, ws); err != nil {
		return err
	}
	h.render(w, r, http.StatusOK, "presets", page{Title: "Presets", Nav: "presets", Data: d})
	return nil
}

func presetsView(list []outpost.Preset, edit string) presetsData {
	d := presetsData{Edit: edit, Qualities: qualityChoices, Fits: fitChoices, CaptionsModes: captionChoices}
	for _, p := range preset.Builtins() {
		row := builtinRow{Preset: p, Icon: presetIcon(p.ID, p.Platform, p.Container), File: fileLabel(p)}
		if p.Video.KeepAspect {
			row.Size = "fits " + strconv.Itoa(p.Video.Width) + "×" + strconv.Itoa(p.Video.Height)
		} else {
			row.Size = strconv.Itoa(p.Video.Width) + "×" + strconv.Itoa(p.Video.Height)
		}
		row.Rules = ruleSummary(p)
		d.Builtins = append(d.Builtins, row)
	}
	for _, p := range list {
		if p.Builtin {
			continue
		}
		if p.Settings == nil {
			p.Settings = &outpost.PresetSettings{}
		}
		row := userRow{Preset: p, BaseName: p.BasePresetID, Icon: "preset"}
		if b, err := preset.Lookup(p.BasePresetID); err == nil {
			row.BaseName, row.Icon = b.Name, presetIcon(b.ID, b.Platform, b.Container)
		}
		row.Summary = strings.TrimPrefix(settingsSummary(*p.Settings), ", ")
		if row.Summary == "" {
			row.Summary = "the base's settings"
		}
		d.User = append(d.User, row)
	}
	return d
}

func ruleSummary(p preset.Preset) []string {
	var out []string
	r := p.Rules
	if r.MaxSizeBytes > 0 {
		out = append(out, "up to "+humanBytes(r.MaxSizeBytes))
	}
	if r.MaxDuration > 0 {
		out = append(out, "up to "+preset.Clock(r.MaxDuration))
	}
	if r.MinDuration > 0 {
		out = append(out, "at least "+preset.Clock(r.MinDuration))
	}
	return out
}

// presetForm is a user preset as the modal's "Save as preset" sends it.
type presetForm struct {
	Name string `json:"name"`
	Base string `json:"base_preset_id"`
	outpost.PresetSettings
}

// readPresetForm reads a preset from the presets page's form (all of its
// settings: a field left empty is the base's) or the modal's JSON.
func readPresetForm(w http.ResponseWriter, r *http.Request) (outpost.PresetChange, error) {
	var f presetForm
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		if err := json.NewDecoder(r.Body).Decode(&f); err != nil {
			return outpost.PresetChange{}, errcode.New(errcode.InvalidJSON, "the preset could not be read: reload the page and try again")
		}
	} else {
		f.Name, f.Base = r.PostFormValue("name"), r.PostFormValue("base_preset_id")
		f.Quality, f.Fit = r.PostFormValue("quality"), r.PostFormValue("fit")
		f.BrandKit, f.CaptionsMode = r.PostFormValue("brand_kit"), r.PostFormValue("captions_mode")
		f.Loudness = outpost.Loudness(r.PostFormValue("loudness"))
		var err error
		if v := strings.TrimSpace(r.PostFormValue("fps")); v != "" {
			if f.FPS, err = strconv.ParseFloat(v, 64); err != nil {
				return outpost.PresetChange{}, errcode.New(errcode.InvalidOption, "frame rate %q: enter a number such as 30, or leave it empty", v)
			}
		}
		if v := strings.TrimSpace(r.PostFormValue("video_kbps")); v != "" {
			if f.VideoKbps, err = strconv.Atoi(v); err != nil {
				return outpost.PresetChange{}, errcode.New(errcode.InvalidOption, "bitrate %q: enter whole kilobits per second, or leave it empty", v)
			}
		}
	}
	return outpost.PresetChange{Name: &f.Name, BasePresetID: &f.Base, Settings: &f.PresetSettings}, nil
}

func (h *Handler) createPreset(w http.ResponseWriter, r *http.Request) error {
	f, err := readPresetForm(w, r)
	if err != nil {
		return err
	}
	p, err := h.svc.Presets.Create(r.Context(), workspaceOf(r), f)
	if err != nil {
		return err
	}
	if wantsJSON(r) {
		h.writeJSON(w, http.StatusCreated, map[string]string{"id": p.ID, "name": p.Name})
		return nil
	}
	http.Redirect(w, r, "/presets#"+p.ID, http.StatusSeeOther)
	return nil
}

func (h *Handler) updatePreset(w http.ResponseWriter, r *http.Request) error {
	f, err := readPresetForm(w, r)
	if err != nil {
		return err
	}
	p, err := h.svc.Presets.Update(r.Context(), workspaceOf(r), r.PathValue("id"), f)
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/presets#"+p.ID, http.StatusSeeOther)
	return nil
}

func (h *Handler) deletePreset(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.Presets.Delete(r.Context(), workspaceOf(r), r.PathValue("id")); err != nil {
		return err
	}
	http.Redirect(w, r, "/presets", http.StatusSeeOther)
	return nil
}
