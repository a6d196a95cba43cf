package sandbox

import (
	"encoding/json"
	"io"
	"net/http"
)

// Error envelopes, field for field and in the platforms' order
// (platforms.md §2).

type googleErrorItem struct {
	Message string `json:"message"`
	Domain  string `json:"domain"`
	Reason  string `json:"reason"`
}

type googleErrorBody struct {
	Code    int               `json:"code"`
	Message string            `json:"message"`
	Errors  []googleErrorItem `json:"errors"`
}

// googleError writes {"error":{"code","message","errors":[{"message","domain","reason"}]}}.
func googleError(w http.ResponseWriter, status int, domain, reason, message string) {
	writeJSON(w, status, struct {
		Error googleErrorBody `json:"error"`
	}{googleErrorBody{Code: status, Message: message, Errors: []googleErrorItem{{message, domain, reason}}}})
}

const quotaMessage = `The request cannot be completed because you have exceeded your <a href="/youtube/v3/getting-started#quota">quota</a>.`

// metaErr is the Graph API error object.
type metaErr struct {
	Message   string `json:"message"`
	Type      string `json:"type"`
	Code      int    `json:"code"`
	Subcode   int    `json:"error_subcode,omitempty"`
	Transient bool   `json:"is_transient,omitempty"`
	UserTitle string `json:"error_user_title,omitempty"`
	UserMsg   string `json:"error_user_msg,omitempty"`
	TraceID   string `json:"fbtrace_id"`
}

// metaError writes {"error":{"message","type","code","error_subcode",…,"fbtrace_id"}}.
func metaError(w http.ResponseWriter, status int, e metaErr) {
	if e.Type == "" {
		e.Type = "OAuthException"
	}
	e.TraceID = "A" + randToken(22)
	writeJSON(w, status, struct {
		Error metaErr `json:"error"`
	}{e})
}

// ruploadError writes the rupload host's {"debug_info":{…}} body.
func ruploadError(w http.ResponseWriter, status int, retriable bool, typ, message string) {
	writeJSON(w, status, map[string]any{"debug_info": map[string]any{
		"retriable": retriable, "type": typ, "message": message,
	}})
}

type linkedinErr struct {
	Status           int    `json:"status"`
	ServiceErrorCode int    `json:"serviceErrorCode,omitempty"`
	Code             string `json:"code,omitempty"`
	Message          string `json:"message"`
}

// linkedinError writes {"status","serviceErrorCode","code","message"}.
func linkedinError(w http.ResponseWriter, status, service int, code, message string) {
	writeJSON(w, status, linkedinErr{status, service, code, message})
}

type tiktokErr struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	LogID   string `json:"log_id"`
}

// tiktokOK writes {"data":…,"error":{"code":"ok","message":"","log_id"}}.
func tiktokOK(w http.ResponseWriter, data any) {
	writeJSON(w, http.StatusOK, struct {
		Data  any       `json:"data"`
		Error tiktokErr `json:"error"`
	}{data, tiktokErr{Code: "ok", LogID: tiktokLogID()}})
}

// tiktokError writes {"data":{},"error":{"code","message","log_id"}}.
func tiktokError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, struct {
		Data  struct{}  `json:"data"`
		Error tiktokErr `json:"error"`
	}{Error: tiktokErr{Code: code, Message: message, LogID: tiktokLogID()}})
}

func tiktokLogID() string { return "2026" + randHex(14) }

// oauthError writes the RFC 6749 {"error","error_description"} body;
// TikTok adds log_id.
func oauthError(w http.ResponseWriter, status int, code, desc string, logID bool) {
	body := map[string]string{"error": code, "error_description": desc}
	if logID {
		body["log_id"] = tiktokLogID()
	}
	writeJSON(w, status, body)
}

func readAll(r *http.Request) ([]byte, error) { return io.ReadAll(io.LimitReader(r.Body, 1<<20)) }

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
