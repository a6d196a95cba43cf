package ui

import (
	"html/template"

	"outpost/internal/publish/platforms"
)

// icons are inline SVGs: platform marks (from the platforms'
// descriptors), formats, statuses and controls. They are decorative
// (aria-hidden): a visible word always goes with them.
var icons = withPlatformIcons(map[string]string{
	// Platforms and formats.
	"shorts": `<svg viewBox="0 0 24 24"><rect x="5.5" y="1.5" width="13" height="21" rx="4" fill="#e00"/><path d="M10 8.6v6.8l5-3.4z" fill="#fff"/></svg>`,
	"mp4":    `<svg viewBox="0 0 24 24"><rect x="2" y="4" width="20" height="16" rx="2.5" fill="#37474f"/><path d="M2 8h20M2 16h20M7 4v4M12 4v4M17 4v4M7 16v4M12 16v4M17 16v4" stroke="#b0bec5" stroke-width="1.2"/><path d="M10 10v4l3.6-2z" fill="#fff"/></svg>`,
	"mov":    `<svg viewBox="0 0 24 24"><rect x="2" y="4" width="20" height="16" rx="2.5" fill="#5d4037"/><text x="12" y="15.2" text-anchor="middle" font-family="system-ui,sans-serif" font-size="7" font-weight="700" fill="#fff">MOV</text></svg>`,
	"webm":   `<svg viewBox="0 0 24 24"><rect x="2" y="4" width="20" height="16" rx="2.5" fill="#2e7d32"/><text x="12" y="15" text-anchor="middle" font-family="system-ui,sans-serif" font-size="6.2" font-weight="700" fill="#fff">WebM</text></svg>`,
	"gif":    `<svg viewBox="0 0 24 24"><rect x="2" y="4" width="20" height="16" rx="2.5" fill="#6a1b9a"/><text x="12" y="15.2" text-anchor="middle" font-family="system-ui,sans-serif" font-size="7" font-weight="700" fill="#fff">GIF</text></svg>`,
	"preset": `<svg viewBox="0 0 24 24"><rect x="3" y="3" width="18" height="18" rx="3" fill="#455a64"/><path d="M7 8h10M7 12h10M7 16h6" stroke="#fff" stroke-width="1.8" stroke-linecap="round"/></svg>`,

	// Statuses.
	"check":   `<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.4" stroke-linecap="round" stroke-linejoin="round"><circle cx="12" cy="12" r="10"/><path d="m7.5 12.5 3 3 6-6.5"/></svg>`,
	"x":       `<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.4" stroke-linecap="round"><circle cx="12" cy="12" r="10"/><path d="m8.5 8.5 7 7m0-7-7 7"/></svg>`,
	"warn":    `<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linejoin="round"><path d="M12 2.8 1.8 20.5h20.4z"/><path d="M12 9.5v5m0 2.6v.1" stroke-linecap="round"/></svg>`,
	"slash":   `<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.4" stroke-linecap="round"><circle cx="12" cy="12" r="10"/><path d="m5 19 14-14"/></svg>`,
	"clock":   `<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round"><circle cx="12" cy="12" r="10"/><path d="M12 6.5V12l3.5 2.5"/></svg>`,
	"spinner": `<svg class="spin" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.6" stroke-linecap="round"><circle cx="12" cy="12" r="9.5" opacity=".25"/><path d="M12 2.5a9.5 9.5 0 0 1 9.5 9.5"/></svg>`,
	"dot":     `<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.2"><circle cx="12" cy="12" r="9.5"/></svg>`,
	"skip":    `<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round"><circle cx="12" cy="12" r="10"/><path d="M7 12h10"/></svg>`,

	// Controls.
	"upload":   `<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><path d="M12 16V4m-5 5 5-5 5 5"/><path d="M4 16v3a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2v-3"/></svg>`,
	"link":     `<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"><path d="M10 14a4.5 4.5 0 0 0 6.4 0l3-3a4.5 4.5 0 0 0-6.4-6.4l-1 1"/><path d="M14 10a4.5 4.5 0 0 0-6.4 0l-3 3a4.5 4.5 0 0 0 6.4 6.4l1-1"/></svg>`,
	"download": `<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><path d="M12 4v12m-5-5 5 5 5-5"/><path d="M4 18v1a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2v-1"/></svg>`,
	"close":    `<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round"><path d="m6 6 12 12M18 6 6 18"/></svg>`,
	"export":   `<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><path d="M14 3h7v7"/><path d="m21 3-9 9"/><path d="M19 14v5a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V7a2 2 0 0 1 2-2h5"/></svg>`,
	"search":   `<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round"><circle cx="11" cy="11" r="7"/><path d="m16.5 16.5 4 4"/></svg>`,
	"retry":    `<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><path d="M3 12a9 9 0 0 1 15.5-6.2L21 8"/><path d="M21 3v5h-5"/><path d="M21 12a9 9 0 0 1-15.5 6.2L3 16"/><path d="M3 21v-5h5"/></svg>`,
	"share":    `<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"><circle cx="18" cy="5" r="2.5"/><circle cx="6" cy="12" r="2.5"/><circle cx="18" cy="19" r="2.5"/><path d="m8.2 10.8 7.6-4.4m-7.6 6.8 7.6 4.4"/></svg>`,
	"bolt":     `<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round"><path d="M13 2 4 14h7l-1 8 9-12h-7z"/></svg>`,
	"grid":     `<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2"><rect x="3" y="3" width="7" height="7" rx="1.5"/><rect x="14" y="3" width="7" height="7" rx="1.5"/><rect x="3" y="14" width="7" height="7" rx="1.5"/><rect x="14" y="14" width="7" height="7" rx="1.5"/></svg>`,
	"logo":     `<svg viewBox="0 0 24 24"><rect x="1" y="1" width="22" height="22" rx="6" fill="#1d3fbb"/><path d="M7 17V7l5 3.2L17 7v10" fill="none" stroke="#fff" stroke-width="2.2" stroke-linejoin="round"/><circle cx="12" cy="15.5" r="1.8" fill="#ffca28"/></svg>`,
})

// withPlatformIcons adds each platform's mark, by platform id.
func withPlatformIcons(m map[string]string) map[string]string {
	for _, d := range platforms.All() {
		m[d.ID] = d.Icon
	}
	return m
}

// icon returns the named inline SVG, hidden from screen readers.
func icon(name string) template.HTML {
	svg, ok := icons[name]
	if !ok {
		svg = icons["mp4"]
	}
	// Safe: every value is a constant above.
	return template.HTML(`<span class="ic ic-` + name + `" aria-hidden="true">` + svg + `</span>`) //nolint:gosec // constants
}

// presetIcon names the icon of a built-in preset.
func presetIcon(id, platform, container string) string {
	switch {
	case id == "youtube-shorts":
		return "shorts"
	case platform != "generic" && platform != "":
		return platform
	}
	switch container {
	case "mov", "webm", "gif":
		return container
	}
	return "mp4"
}

// platformLabel is a platform's display name.
func platformLabel(p string) string {
	if d, ok := platforms.Lookup(p); ok {
		return d.Name
	}
	if p == "generic" {
		return "File"
	}
	return p
}
