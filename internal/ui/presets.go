package ui

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"outpost/internal/errcode"
	"outpost/internal/preset"
	"outpost/internal/store"
)

const maxPresetName = 100

// builtinRow is a built-in preset on the presets page.
type builtinRow struct {
	preset.Preset
	Icon  string
	Size  string
	Rules []string
}

// userRow is a user preset on the presets page.
type userRow struct {
	store.Preset
	BaseName string
	Icon     string
	Settings presetSettings
	Summary  string
}

type presetsData struct {
	Builtins []builtinRow
	User     []userRow
	Edit     string // id of the preset whose form is open
	Levels   []preset.Level
}

func (h *Handler) presetsPage(w http.ResponseWriter, r *http.Request) error {
	list, err := h.store.ListPresets(r.Context(), workspaceOf(r))
	if err != nil {
		return err
	}
	h.render(w, r, http.StatusOK, "presets", page{Title: "Presets", Nav: "presets",
		Data: presetsView(list, r.URL.Query().Get("edit"))})
	return nil
}

func presetsView(list []store.Preset, edit string) presetsData {
	d := presetsData{Edit: edit, Levels: preset.Levels}
	for _, p := range preset.Builtins() {
		row := builtinRow{Preset: p, Icon: presetIcon(p.ID, p.Platform, p.Container)}
		if p.Video.KeepAspect {
			row.Size = "fits " + strconv.Itoa(p.Video.Width) + "×" + strconv.Itoa(p.Video.Height)
		} else {
			row.Size = strconv.Itoa(p.Video.Width) + "×" + strconv.Itoa(p.Video.Height)
		}
		row.Rules = ruleSummary(p)
		d.Builtins = append(d.Builtins, row)
	}
	for _, p := range list {
		row := userRow{Preset: p, BaseName: p.BasePresetID, Icon: "preset"}
		if b, err := preset.Lookup(p.BasePresetID); err == nil {
			row.BaseName, row.Icon = b.Name, presetIcon(b.ID, b.Platform, b.Container)
		}
		if len(p.Settings) > 0 {
			_ = json.Unmarshal(p.Settings, &row.Settings)
		}
		row.Summary = strings.TrimPrefix(settingsSummary(row.Settings), ", ")
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

// presetForm is a user preset as the forms and the modal send it.
type presetForm struct {
	Name      string  `json:"name"`
	Base      string  `json:"base_preset_id"`
	Quality   string  `json:"quality"`
	Fit       string  `json:"fit"`
	FPS       float64 `json:"fps"`
	VideoKbps int     `json:"video_kbps"`
}

func readPresetForm(w http.ResponseWriter, r *http.Request) (presetForm, error) {
	var f presetForm
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFormBody)).Decode(&f); err != nil {
			return f, errcode.New(errcode.InvalidJSON, "the preset could not be read: reload the page and try again")
		}
	} else {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
		f.Name, f.Base = r.PostFormValue("name"), r.PostFormValue("base_preset_id")
		f.Quality, f.Fit = r.PostFormValue("quality"), r.PostFormValue("fit")
		var err error
		if v := strings.TrimSpace(r.PostFormValue("fps")); v != "" {
			if f.FPS, err = strconv.ParseFloat(v, 64); err != nil {
				return f, errcode.New(errcode.InvalidOption, "frame rate %q: enter a number such as 30, or leave it empty", v)
			}
		}
		if v := strings.TrimSpace(r.PostFormValue("video_kbps")); v != "" {
			if f.VideoKbps, err = strconv.Atoi(v); err != nil {
				return f, errcode.New(errcode.InvalidOption, "bitrate %q: enter whole kilobits per second, or leave it empty", v)
			}
		}
	}
	f.Name = strings.TrimSpace(f.Name)
	return f, f.validate()
}

func (f *presetForm) validate() error {
	if f.Name == "" || utf8.RuneCountInString(f.Name) > maxPresetName || !validText(f.Name, maxPresetName) {
		return errcode.New(errcode.InvalidOption, "name: give the preset a name of 1 to %d characters", maxPresetName)
	}
	if _, err := preset.Lookup(f.Base); err != nil {
		return errcode.New(errcode.UnknownPreset, "base format %q is not a built-in format", f.Base)
	}
	if f.Quality != "" {
		l, err := preset.ParseLevel(f.Quality)
		if err != nil {
			return errcode.New(errcode.InvalidOption, "quality %q: choose Web, HD or Ultra", f.Quality)
		}
		f.Quality = string(l)
	}
	if f.Fit != "" {
		fit, err := preset.ParseFit(f.Fit)
		if err != nil {
			return errcode.New(errcode.InvalidOption, "fit %q: choose pad, blur or crop", f.Fit)
		}
		f.Fit = string(fit)
	}
	if f.FPS < 0 || f.FPS > 120 {
		return errcode.New(errcode.InvalidOption, "frame rate %g: use 1 to 120, or leave it empty for the format's", f.FPS)
	}
	if f.VideoKbps != 0 && (f.VideoKbps < 50 || f.VideoKbps > 500_000) {
		return errcode.New(errcode.InvalidOption, "bitrate %d kb/s: use 50 to 500000, or leave it empty for the quality level's", f.VideoKbps)
	}
	return nil
}

func (f presetForm) settings() json.RawMessage {
	b, _ := json.Marshal(presetSettings{Quality: f.Quality, Fit: f.Fit, FPS: f.FPS, VideoKbps: f.VideoKbps})
	return b
}

func (h *Handler) createPreset(w http.ResponseWriter, r *http.Request) error {
	f, err := readPresetForm(w, r)
	if err != nil {
		return err
	}
	p, err := h.store.CreatePreset(r.Context(), store.Preset{WorkspaceID: workspaceOf(r), Name: f.Name,
		BasePresetID: f.Base, Settings: f.settings()})
	if errors.Is(err, store.ErrConflict) {
		return &errcode.Error{Code: errcode.Conflict, Message: "a preset named \"" + f.Name + "\" already exists",
			Remedy: "Choose another name, or edit that preset on the Presets page."}
	}
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

func (h *Handler) presetInWorkspace(r *http.Request, id string) (store.Preset, error) {
	p, err := h.store.GetPreset(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || err == nil && p.WorkspaceID != workspaceOf(r) {
		if _, berr := preset.Lookup(id); berr == nil {
			return store.Preset{}, &errcode.Error{Code: errcode.Conflict, Message: "built-in formats cannot be changed",
				Remedy: "Save your settings as a preset of your own instead."}
		}
		return store.Preset{}, errcode.New(errcode.NotFound, "preset %s does not exist in this workspace", id)
	}
	return p, err
}

func (h *Handler) updatePreset(w http.ResponseWriter, r *http.Request) error {
	p, err := h.presetInWorkspace(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	f, err := readPresetForm(w, r)
	if err != nil {
		return err
	}
	p.Name, p.BasePresetID, p.Settings = f.Name, f.Base, f.settings()
	if _, err := h.store.UpdatePreset(r.Context(), p); errors.Is(err, store.ErrConflict) {
		return &errcode.Error{Code: errcode.Conflict, Message: "a preset named \"" + f.Name + "\" already exists",
			Remedy: "Choose another name."}
	} else if err != nil {
		return err
	}
	http.Redirect(w, r, "/presets#"+p.ID, http.StatusSeeOther)
	return nil
}

func (h *Handler) deletePreset(w http.ResponseWriter, r *http.Request) error {
	p, err := h.presetInWorkspace(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := h.store.DeletePreset(r.Context(), p.ID); err != nil {
		return err
	}
	http.Redirect(w, r, "/presets", http.StatusSeeOther)
	return nil
}
