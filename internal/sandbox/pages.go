package sandbox

import (
	"html/template"
	"net/http"
	"strings"
)

var indexPage = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Outpost sandbox</title>
<style>body{font:15px system-ui,sans-serif;margin:2rem}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
code{font-size:.85em}</style></head>
<body><h1>Outpost sandbox</h1>
<p>Emulated YouTube, Facebook, Instagram, LinkedIn and TikTok. JSON: <a href="state">state</a>, <a href="faults">faults</a>.</p>
<table><tr><th>platform</th><th>status</th><th>title / text</th><th>size</th><th>sha256</th><th>link</th><th>created</th></tr>
{{range .}}<tr><td>{{.Platform}}</td><td>{{.Status}}{{if .Reason}} ({{.Reason}}){{end}}</td>
<td>{{if .Title}}<strong>{{.Title}}</strong><br>{{end}}{{.Text}}</td><td>{{.Size}}</td>
<td><code>{{printf "%.12s" .SHA256}}</code></td><td><a href="{{.URL}}">{{.ID}}</a></td>
<td>{{.CreatedAt.Format "2006-01-02 15:04:05"}}</td></tr>
{{else}}<tr><td colspan="7">Nothing published yet.</td></tr>{{end}}</table></body></html>`))

var postPage = template.Must(template.New("post").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Platform}} post {{.ID}} (sandbox)</title>
<style>body{font:16px system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}</style></head>
<body><p><a href="/_sandbox/">Outpost sandbox</a> · {{.Platform}}</p>
{{if .Title}}<h1>{{.Title}}</h1>{{end}}<p style="white-space:pre-wrap">{{.Text}}</p>
<dl><dt>status</dt><dd>{{.Status}}{{if .Reason}} ({{.Reason}}){{end}}</dd><dt>account</dt><dd>{{.Account}}</dd>
<dt>file</dt><dd>{{.Size}} bytes, sha256 {{.SHA256}}</dd>{{if .ScheduledAt}}<dt>scheduled</dt><dd>{{.ScheduledAt}}</dd>{{end}}</dl>
</body></html>`))

func (s *Server) handleIndex(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = indexPage.Execute(w, s.Posts(""))
}

// handlePostPage serves the look-alike post URLs (/watch?v=, /reel/ID,
// /PAGE/videos/ID, /feed/update/URN, /@user/video/ID).
func (s *Server) handlePostPage(w http.ResponseWriter, r *http.Request, id string) {
	id = strings.TrimSuffix(id, "/")
	for _, p := range s.Posts("") {
		if p.ID == id || p.MediaID == id || strings.HasSuffix(p.URL, "/"+id) || strings.HasSuffix(p.URL, "/"+id+"/") {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_ = postPage.Execute(w, p)
			return
		}
	}
	http.NotFound(w, r)
}
