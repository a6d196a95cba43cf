package web

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"outpost/internal/errcode"
	"outpost/internal/outpost"
	"outpost/internal/preset"
	"outpost/internal/publish"
	"outpost/internal/publish/platforms"
)

// openAPI builds the OpenAPI 3.1 document from the route table: paths from
// the patterns, schemas by reflection over the request and response types'
// JSON tags. It lists every route with a Handler (Raw routes, /metrics and
// /dl/, are not part of the API).
func (s *Server) openAPI() map[string]any {
	g := newSchemaGen()
	paths := map[string]any{}
	for _, rt := range s.routes {
		if rt.Handler == nil {
			continue
		}
		op := map[string]any{
			"operationId": operationID(rt),
			"summary":     rt.Summary,
			"tags":        []string{rt.Tag},
		}
		var params []any
		for _, name := range pathParams(rt.Path) {
			params = append(params, map[string]any{
				"name": name, "in": "path", "required": true, "schema": map[string]any{"type": "string"},
			})
		}
		for _, q := range rt.Query {
			params = append(params, map[string]any{
				"name": q.Name, "in": "query", "description": q.Description, "schema": map[string]any{"type": q.Type},
			})
		}
		if rt.Idempotent {
			params = append(params, map[string]any{
				"name": "Idempotency-Key", "in": "header",
				"description": "Makes the request safe to retry: the same key with the same body returns the first response (Idempotent-Replayed: true); with another body, 409 idempotency_key_reused. At most 255 printable ASCII characters; scoped to the workspace.",
				"schema":      map[string]any{"type": "string", "maxLength": maxIdempotencyKey},
			})
		}
		if rt.Events != nil {
			params = append(params, map[string]any{
				"name": "Last-Event-ID", "in": "header", "description": "resume after this event id",
				"schema": map[string]any{"type": "string"},
			})
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		content := map[string]any{}
		if rt.Request != nil {
			content["application/json"] = map[string]any{"schema": g.schema(reflect.TypeOf(rt.Request))}
		}
		if rt.Form != nil {
			content["multipart/form-data"] = map[string]any{"schema": g.schema(reflect.TypeOf(rt.Form))}
		}
		if len(content) > 0 {
			op["requestBody"] = map[string]any{"required": true, "content": content}
		}
		ok := map[string]any{"description": http200Text(rt.Status)}
		switch {
		case rt.Events != nil:
			ok["description"] = "A stream of events: `id: <seq>`, `event: progress|rendition|done`, `data: <json>` (the event's data), until done."
			var kinds []any
			for _, v := range rt.Events {
				kinds = append(kinds, g.schema(reflect.TypeOf(v)))
			}
			ok["content"] = map[string]any{"text/event-stream": map[string]any{"schema": map[string]any{
				"description": "The data line of each event, by event type: progress, rendition, done.",
				"oneOf":       kinds,
			}}}
		case rt.Response != nil:
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(rt.Response))}}
		}
		responses := map[string]any{
			strconv.Itoa(rt.Status): ok,
			"default":               map[string]any{"$ref": "#/components/responses/Error"},
		}
		if !rt.Public {
			if a, err := routeAction(rt.pattern()); err == nil {
				op["description"] = actionDoc(a)
			}
			op["security"] = []any{map[string]any{"bearer": []string{}}}
			responses["401"] = map[string]any{"$ref": "#/components/responses/Error"}
		}
		op["responses"] = responses
		item, _ := paths[rt.Path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[rt.Path] = item
		}
		item[strings.ToLower(rt.Method)] = op
	}
	errSchema := g.schema(reflect.TypeOf(errorJSON{}))
	if d, ok := g.schemas["Destination"].(map[string]any); ok {
		d["description"] = postFieldsDoc()
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "Outpost API",
			"version":     "1",
			"description": "Export a video to every platform's format in one pass. Errors are `{\"error\":{\"code\",\"message\",\"remedy\"}}` with a stable code (docs/errors.md). Lists are `{\"data\":[…],\"next_cursor\"}`: pass next_cursor as ?cursor= for the next page.",
		},
		"servers": []any{map[string]any{"url": s.cfg.PublicURL}},
		"paths":   paths,
		"components": map[string]any{
			"schemas": g.schemas,
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer", "description": "An API key of the workspace (opk_…)."},
			},
			"responses": map[string]any{
				"Error": map[string]any{
					"description": "An error with a stable code.",
					"content":     map[string]any{"application/json": map[string]any{"schema": errSchema}},
				},
			},
		},
	}
}

func http200Text(status int) string {
	switch status {
	case 201:
		return "Created."
	case 202:
		return "Accepted: the work is queued."
	case 204:
		return "Done; no content."
	}
	return "OK."
}

// operationID names an operation from its method and path:
// "POST /api/v1/exports/{id}/cancel" → "postExportsIdCancel".
func operationID(rt route) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(rt.Method))
	for _, seg := range strings.Split(strings.TrimPrefix(rt.Path, "/api/v1"), "/") {
		seg = strings.Trim(seg, "{}")
		for _, part := range strings.FieldsFunc(seg, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// enums are the values of the string types that have a fixed set.
var enums = map[reflect.Type]func() []string{
	reflect.TypeFor[outpost.ExportStatus]():    func() []string { return strs(outpost.ExportStatuses) },
	reflect.TypeFor[outpost.RenditionStatus](): func() []string { return strs(outpost.RenditionStatuses) },
	reflect.TypeFor[outpost.ProjectStatus]():   func() []string { return strs(outpost.ProjectStatuses) },
	reflect.TypeFor[outpost.ProjectKind]():     func() []string { return strs(outpost.ProjectKinds) },
	reflect.TypeFor[outpost.StepKind]():        func() []string { return strs(outpost.StepKinds) },
	reflect.TypeFor[outpost.StepOutcome]():     func() []string { return strs(outpost.StepOutcomes) },
	reflect.TypeFor[preset.Level]():            func() []string { return strs(preset.Levels) },
	reflect.TypeFor[preset.Fit]():              func() []string { return []string{"blur", "pad", "crop"} },
	reflect.TypeFor[publish.FieldKind](): func() []string {
		return []string{string(publish.KindText), string(publish.KindTextarea), string(publish.KindSelect), string(publish.KindTags)}
	},
	reflect.TypeFor[publish.Count](): func() []string {
		return []string{string(publish.CountChars), string(publish.CountBytes), string(publish.CountUTF16), string(publish.CountTags)}
	},
	reflect.TypeFor[errcode.Code](): func() []string { return strs(slices.Collect(maps.Keys(errcode.Remedies))) },
}

// postFieldsDoc describes, from the platforms' descriptors, which
// destination fields each platform takes and what it allows: the
// Destination schema's description.
func postFieldsDoc() string {
	var b strings.Builder
	b.WriteString("A post to one connected account. The fields a platform takes, and its limits, by platform (GET /api/v1/platforms has them as data):")
	for _, d := range platforms.All() {
		var fs []string
		for _, f := range d.Fields {
			var notes []string
			if f.Required {
				notes = append(notes, "required")
			}
			if f.Limit > 0 {
				notes = append(notes, fmt.Sprintf("at most %d (%s)", f.Limit, f.Count))
			}
			if len(f.Choices) > 0 {
				vals := make([]string, len(f.Choices))
				for i, c := range f.Choices {
					vals[i] = c.Value
				}
				notes = append(notes, strings.Join(vals, "|"))
			}
			if f.Default != "" {
				notes = append(notes, "default "+f.Default)
			}
			s := "`" + f.Name + "`"
			if len(notes) > 0 {
				s += " (" + strings.Join(notes, ", ") + ")"
			}
			fs = append(fs, s)
		}
		sched := "Outpost holds a scheduled post until its time"
		if d.Features.NativeSchedule {
			sched = "schedules natively"
		}
		fmt.Fprintf(&b, " %s (`%s`): %s; %s.", d.Name, d.ID, strings.Join(fs, ", "), sched)
	}
	return b.String()
}

func strs[S ~string](in []S) []string {
	out := make([]string, len(in))
	for i, v := range in {
		out[i] = string(v)
	}
	slices.Sort(out)
	return out
}

// schemaGen turns Go types into JSON Schemas (OpenAPI 3.1 is JSON Schema
// 2020-12), putting named structs under components/schemas.
type schemaGen struct {
	schemas map[string]any
	names   map[reflect.Type]string
	taken   map[string]reflect.Type
}

func newSchemaGen() *schemaGen {
	return &schemaGen{schemas: map[string]any{}, names: map[reflect.Type]string{}, taken: map[string]reflect.Type{}}
}

var (
	timeType    = reflect.TypeFor[time.Time]()
	durType     = reflect.TypeFor[time.Duration]()
	rawType     = reflect.TypeFor[json.RawMessage]()
	formFileTyp = reflect.TypeFor[formFile]()
	loudnessTyp = reflect.TypeFor[outpost.Loudness]()
)

func (g *schemaGen) schema(t reflect.Type) map[string]any {
	switch t {
	case timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case durType:
		return map[string]any{"type": "integer", "description": "nanoseconds"}
	case rawType:
		return map[string]any{} // any JSON
	case formFileTyp:
		return map[string]any{"type": "string", "format": "binary", "contentMediaType": "application/octet-stream"}
	case loudnessTyp:
		return map[string]any{"type": []string{"string", "number"},
			"description": `"platform", "off", or a level in LUFS from -70 to -5 (e.g. -14)`}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return nullable(g.schema(t.Elem()))
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32:
		return map[string]any{"type": "integer"}
	case reflect.Int64, reflect.Uint64:
		return map[string]any{"type": "integer", "format": "int64"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.String:
		s := map[string]any{"type": "string"}
		if values, ok := enums[t]; ok {
			s["enum"] = values()
		}
		return s
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "contentEncoding": "base64"}
		}
		return map[string]any{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.Struct:
		if t.Name() == "" {
			return g.object(t)
		}
		name, ok := g.names[t]
		if !ok {
			name = g.name(t)
			g.names[t] = name
			g.schemas[name] = map[string]any{} // placeholder for recursive types
			g.schemas[name] = g.object(t)
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return map[string]any{}
}

// object is a struct's schema: its JSON fields, embedded structs'
// flattened as encoding/json does; fields without omitempty are required.
func (g *schemaGen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
				walk(f.Type)
				continue
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			props[name] = g.schema(f.Type)
			if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
				required = append(required, name)
			}
		}
	}
	walk(t)
	s := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

// name picks a component name: the type's name, capitalised, without a
// JSON suffix ("exportJSON" → "Export", "page[…exportJSON]" →
// "ExportPage"); a clash with another package's type prefixes the package
// ("PresetVideo").
func (g *schemaGen) name(t reflect.Type) string {
	n := t.Name()
	if i := strings.IndexByte(n, '['); i >= 0 {
		arg := n[i+1 : len(n)-1]
		arg = arg[strings.LastIndexByte(arg, '.')+1:]
		n = cleanName(arg) + cleanName(n[:i])
	} else {
		n = cleanName(n)
	}
	if strings.HasSuffix(t.PkgPath(), "/media") {
		n = "Media" + n // Info, Video, Audio alone say too little
	}
	if other, ok := g.taken[n]; ok && other != t {
		pkg := t.PkgPath()
		n = cleanName(pkg[strings.LastIndexByte(pkg, '/')+1:]) + n
	}
	g.taken[n] = t
	return n
}

func cleanName(n string) string {
	n = strings.TrimSuffix(n, "JSON")
	if n == "" {
		return n
	}
	return strings.ToUpper(n[:1]) + n[1:]
}

// nullable allows null besides the schema.
func nullable(s map[string]any) map[string]any {
	if typ, ok := s["type"].(string); ok && s["$ref"] == nil {
		out := make(map[string]any, len(s))
		for k, v := range s {
			out[k] = v
		}
		out["type"] = []string{typ, "null"}
		return out
	}
	if len(s) == 0 {
		return s
	}
	return map[string]any{"oneOf": []any{s, map[string]any{"type": "null"}}}
}
