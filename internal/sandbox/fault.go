package sandbox

import (
	"fmt"
	"net/http"
	"slices"

	"outpost/internal/publish/platforms"
)

// The fault kinds.
const (
	// FaultServerError answers the next matching calls with the platform's
	// 5xx error.
	FaultServerError = "5xx"
	// FaultRateLimit answers with the platform's throttle signal: 429 with
	// Retry-After (YouTube, TikTok), 429 without it (LinkedIn), HTTP 400
	// with code 80001 or 4 and a usage header (Facebook, Instagram).
	FaultRateLimit = "429"
	// FaultQuota answers YouTube calls with 403 quotaExceeded.
	FaultQuota = "quota"
	// FaultReset reads half of the next upload chunk and drops the
	// connection without a response. What was read is kept as the
	// platform would (YouTube: 256 KiB multiples; Facebook and Instagram
	// rupload: all; chunk-by-chunk protocols: nothing).
	FaultReset = "reset"
	// FaultExpireToken expires every access token of the platform at once.
	FaultExpireToken = "expire_token"
	// FaultRevoke revokes every access and refresh token of the platform.
	FaultRevoke = "revoke"
	// FaultSlowProcessing keeps the next uploads processing for DelayMS
	// (one hour when zero).
	FaultSlowProcessing = "slow_processing"
	// FaultReject makes the next uploads fail processing permanently with
	// Reason (a platform-typical reason when empty).
	FaultReject = "reject"
)

// Fault is one injected failure.
type Fault struct {
	Platform string `json:"platform"`
	Kind     string `json:"kind"`
	// Count is how many calls it affects; 1 when zero.
	Count int `json:"count,omitempty"`
	// After lets that many matching calls through first (reset the third
	// chunk: After 2).
	After int `json:"after,omitempty"`
	// Op narrows 5xx, 429, quota and reset to one kind of call: "init"
	// (upload session, container, initializeUpload, video init), "upload"
	// (byte transfer), "finish" (finish, media_publish, post creation),
	// "status" (polls), "info" (account lookups), "token" (OAuth token
	// endpoint, only when named). Empty matches any API call; reset
	// always applies to uploads.
	Op string `json:"op,omitempty"`
	// RetryAfter is the Retry-After of a 429, in seconds (30 when zero).
	RetryAfter int `json:"retry_after,omitempty"`
	// DelayMS is the processing time of slow_processing.
	DelayMS int `json:"delay_ms,omitempty"`
	// Reason is the rejection reason of reject.
	Reason string `json:"reason,omitempty"`
}

var faultKinds = []string{FaultServerError, FaultRateLimit, FaultQuota, FaultReset, FaultExpireToken,
	FaultRevoke, FaultSlowProcessing, FaultReject}

func (f Fault) validate() error {
	if ids := platforms.IDs(); !slices.Contains(ids, f.Platform) {
		return fmt.Errorf("unknown platform %q (want one of %v)", f.Platform, ids)
	}
	if !slices.Contains(faultKinds, f.Kind) {
		return fmt.Errorf("unknown fault kind %q (want one of %v)", f.Kind, faultKinds)
	}
	if f.Count < 0 {
		return fmt.Errorf("negative count")
	}
	return nil
}

// Inject queues a fault; expire_token and revoke take effect at once.
func (s *Server) Inject(f Fault) error {
	if err := f.validate(); err != nil {
		return err
	}
	if f.Count == 0 {
		f.Count = 1
	}
	s.log.Info("sandbox fault", "platform", f.Platform, "kind", f.Kind, "count", f.Count, "op", f.Op)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch f.Kind {
	case FaultExpireToken, FaultRevoke:
		now := s.now()
		for _, t := range s.tokens {
			if t.platform != f.Platform {
				continue
			}
			if f.Kind == FaultRevoke {
				t.revoked = true
			} else if t.kind != kindRefresh {
				t.expires = now.Add(-1)
			}
		}
		return nil
	}
	s.faults = append(s.faults, &f)
	return nil
}

// Faults returns the queued faults.
func (s *Server) Faults() []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Fault, 0, len(s.faults))
	for _, f := range s.faults {
		out = append(out, *f)
	}
	return out
}

// ClearFaults drops every queued fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

// takeFaultLocked consumes one matching fault; callers hold s.mu.
func (s *Server) takeFaultLocked(platform, op string, kinds ...string) *Fault {
	for i, f := range s.faults {
		if f.Platform != platform || !slices.Contains(kinds, f.Kind) {
			continue
		}
		switch {
		case f.Kind == FaultReset || f.Kind == FaultSlowProcessing || f.Kind == FaultReject:
			// op is implied
		case f.Op == "" && op == "token", f.Op != "" && f.Op != op:
			continue
		}
		if f.After > 0 {
			f.After--
			continue
		}
		c := *f
		f.Count--
		if f.Count <= 0 {
			s.faults = slices.Delete(s.faults, i, i+1)
		}
		return &c
	}
	return nil
}

func (s *Server) takeFault(platform, op string, kinds ...string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.takeFaultLocked(platform, op, kinds...)
}

// apiFault answers the request with a queued 5xx, 429 or quota fault and
// reports whether it did.
func (s *Server) apiFault(w http.ResponseWriter, platform, op string) bool {
	f := s.takeFault(platform, op, FaultServerError, FaultRateLimit, FaultQuota)
	if f == nil {
		return false
	}
	retry := f.RetryAfter
	if retry == 0 {
		retry = 30
	}
	switch platform {
	case YouTube:
		switch f.Kind {
		case FaultServerError:
			googleError(w, http.StatusServiceUnavailable, "global", "backendError", "Backend Error")
		case FaultQuota:
			googleError(w, http.StatusForbidden, "youtube.quota", "quotaExceeded", quotaMessage)
		default:
			w.Header().Set("Retry-After", fmt.Sprint(retry))
			googleError(w, http.StatusTooManyRequests, "usageLimits", "rateLimitExceeded", "Rate Limit Exceeded")
		}
	case Facebook, Instagram:
		if f.Kind == FaultServerError {
			metaError(w, http.StatusInternalServerError, metaErr{Code: 2, Message: "An unexpected error has occurred. Please retry your request later.", Transient: true})
			return true
		}
		minutes := (retry + 59) / 60
		if platform == Facebook {
			w.Header().Set("X-Business-Use-Case-Usage", fmt.Sprintf(
				`{"%s":[{"type":"pages","call_count":100,"total_cputime":20,"total_time":30,"estimated_time_to_regain_access":%d}]}`,
				FacebookPageID, minutes))
			metaError(w, http.StatusBadRequest, metaErr{Code: 80001, Message: "There have been too many calls to this Page account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting."})
			return true
		}
		w.Header().Set("X-App-Usage", `{"call_count":100,"total_cputime":25,"total_time":40}`)
		w.Header().Set("X-Business-Use-Case-Usage", fmt.Sprintf(
			`{"%s":[{"type":"instagram","call_count":100,"total_cputime":20,"total_time":30,"estimated_time_to_regain_access":%d}]}`,
			InstagramUserID, minutes))
		metaError(w, http.StatusBadRequest, metaErr{Code: 4, Message: "Application request limit reached", Transient: true})
	case LinkedIn:
		if f.Kind == FaultServerError {
			linkedinError(w, http.StatusServiceUnavailable, 0, "", "Service Unavailable")
			return true
		}
		// LinkedIn sends no Retry-After and no rate headers.
		linkedinError(w, http.StatusTooManyRequests, 0, "", "Too Many Requests")
	case TikTok:
		if f.Kind == FaultServerError {
			tiktokError(w, http.StatusInternalServerError, "internal_error", "Something went wrong. Please try again later.")
			return true
		}
		w.Header().Set("Retry-After", fmt.Sprint(retry))
		tiktokError(w, http.StatusTooManyRequests, "rate_limit_exceeded", "The API rate limit was exceeded. Please try again later.")
	}
	return true
}

// resetFault reports whether the next upload chunk of platform is to be
// cut off.
func (s *Server) resetFault(platform string) bool {
	return s.takeFault(platform, "upload", FaultReset) != nil
}

func (s *Server) handleFaultsList(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Faults())
}

func (s *Server) handleFaultsAdd(w http.ResponseWriter, r *http.Request) {
	var fs []Fault
	var one Fault
	body, err := readAll(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if len(body) > 0 && body[0] == '[' {
		err = jsonUnmarshal(body, &fs)
	} else {
		err = jsonUnmarshal(body, &one)
		fs = []Fault{one}
	}
	if err != nil {
		http.Error(w, "decode fault: "+err.Error(), http.StatusBadRequest)
		return
	}
	for _, f := range fs {
		if err := s.Inject(f); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	}
	writeJSON(w, http.StatusOK, s.Faults())
}

func (s *Server) handleFaultsClear(w http.ResponseWriter, r *http.Request) {
	s.ClearFaults()
	w.WriteHeader(http.StatusNoContent)
}
