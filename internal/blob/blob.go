// Package blob stores rendered files and hands out expiring download links.
//
// It is a thin layer over gocloud.dev/blob with two drivers: fileblob for a
// local folder (file:///abs/dir) and s3blob for S3 and S3-compatible servers
// (s3://bucket?endpoint=…&region=…&use_path_style=true). Local links are
// HMAC-signed /dl/… URLs on Outpost's own base URL, served by Handler; S3
// links are presigned URLs that the client fetches from S3 directly.
//
// Only the fileblob and s3blob drivers are linked in, to keep the binary
// small; CheckURL, which the configuration uses, accepts exactly what Open
// opens. To add GCS or Azure, import gocloud.dev/blob/gcsblob or
// gocloud.dev/blob/azureblob here and add the gs:// or azblob:// scheme to
// Schemes, CheckURL and Open; their SignedURL needs service-account or
// shared-key credentials.
package blob

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	gcblob "gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
	"gocloud.dev/gcerrors"
)

// DefaultDownloadPath is where Handler is mounted when Options.DownloadPath
// is empty.
const DefaultDownloadPath = "/dl/"

// MinSecretLen is the shortest HMAC key Open accepts for file:// storage.
const MinSecretLen = 16

// maxS3TTL is the longest lifetime of an S3 SigV4 presigned URL.
const maxS3TTL = 7 * 24 * time.Hour

// Sentinel errors. Errors returned by Store wrap one of these where it
// applies, together with the driver's error.
var (
	// ErrNotFound means no blob exists under the key.
	ErrNotFound = errors.New("blob not found")
	// ErrInvalidKey means a key is empty, absolute, contains "..", or is
	// otherwise unsafe. See ValidateKey.
	ErrInvalidKey = errors.New("invalid blob key")
	// ErrLinkExpired means a signed link was authentic once but its expiry
	// has passed.
	ErrLinkExpired = errors.New("link expired")
	// ErrLinkInvalid means a signed link was not issued by this store, or
	// was altered.
	ErrLinkInvalid = errors.New("link invalid")
)

// Options configures Open.
type Options struct {
	// Secret is the HMAC key that signs file:// download links (from
	// config; at least MinSecretLen bytes). Not used for s3://.
	Secret []byte
	// PublicBaseURL is the absolute URL under which clients reach Outpost,
	// e.g. http://127.0.0.1:8080. file:// links are built on it.
	PublicBaseURL string
	// DownloadPath is the path Handler is mounted at. Default "/dl/".
	DownloadPath string

	// S3AccessKeyID and S3SecretAccessKey, when both set, are the S3
	// credentials. When empty, the standard AWS chain is used
	// (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, shared config, …).
	S3AccessKeyID     string
	S3SecretAccessKey string

	// Logger receives Handler's diagnostics. Nil discards them.
	Logger *slog.Logger
}

// Store is a bucket of blobs plus the means to sign links to them. It is
// safe for concurrent use.
type Store struct {
	bucket *gcblob.Bucket
	scheme string // "file" or "s3"
	logger *slog.Logger

	// file:// only.
	signer    *fileblob.URLSignerHMAC
	secret    []byte
	linkBase  *url.URL // PublicBaseURL + DownloadPath
	localRoot string
}

// Reader reads one blob, or a range of it. It is gocloud's *blob.Reader:
// Read, Seek, Close, Size, ContentType, ModTime. Callers must Close it.
type Reader = gcblob.Reader

// Attributes describes a stored blob.
type Attributes struct {
	Size        int64
	ContentType string
	ModTime     time.Time
	// ETag is a quoted entity tag, usable as an HTTP ETag header.
	ETag string
	// MD5 is the content hash when the backend records one.
	MD5 []byte
}

// Schemes are the blob URL schemes Open supports.
var Schemes = []string{"file", "s3"}

// CheckURL reports whether Open can open blobURL: file:///abs/dir, or
// s3://bucket (with its query).
func CheckURL(blobURL string) error {
	_, err := parseURL(blobURL)
	return err
}

func parseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("not a valid URL: %w", err)
	}
	switch u.Scheme {
	case "file":
		switch {
		case u.Host != "" && u.Host != "localhost":
			return nil, fmt.Errorf("file url %q has host %q: it needs an absolute path (file:///absolute/dir)", u.Redacted(), u.Host)
		case u.Opaque != "" || !path.IsAbs(u.Path):
			return nil, fmt.Errorf("file url %q needs an absolute path (file:///absolute/dir)", u.Redacted())
		case u.RawQuery != "":
			return nil, fmt.Errorf("file url takes no query parameters, got %q", u.RawQuery)
		}
	case "s3":
		if u.Host == "" {
			return nil, fmt.Errorf("s3 url %q needs a bucket name: no bucket (s3://bucket?…)", u.Redacted())
		}
	default:
		return nil, fmt.Errorf("unsupported scheme %q: the scheme must be one of %s (the storage drivers this build has)",
			u.Scheme, strings.Join(Schemes, ", "))
	}
	return u, nil
}

// Open opens the storage named by blobURL: file:///abs/dir (the folder is
// created if missing) or s3://bucket?endpoint=…&region=…&use_path_style=true.
func Open(ctx context.Context, blobURL string, opts Options) (*Store, error) {
	u, err := parseURL(blobURL)
	if err != nil {
		return nil, fmt.Errorf("open blob storage: %w", err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	switch u.Scheme {
	case "file":
		return openFile(u, opts, logger)
	default:
		return openS3(ctx, u, opts, logger)
	}
}

// FileURL returns the file:// URL of dir, made absolute.
func FileURL(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("make blob dir absolute: %w", err)
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String(), nil
}

func openFile(u *url.URL, opts Options, logger *slog.Logger) (*Store, error) {
	if len(opts.Secret) < MinSecretLen {
		return nil, fmt.Errorf("open blob storage: link secret must be at least %d bytes, got %d", MinSecretLen, len(opts.Secret))
	}
	base, err := linkBase(opts.PublicBaseURL, opts.DownloadPath)
	if err != nil {
		return nil, err
	}
	dir := filepath.FromSlash(u.Path)
	secret := append([]byte(nil), opts.Secret...)
	signer := fileblob.NewURLSignerHMAC(base, secret)
	b, err := fileblob.OpenBucket(dir, &fileblob.Options{
		URLSigner: signer,
		CreateDir: true,
		// Temp files go next to their final name, not to os.TempDir: the
		// atomic rename then never crosses a filesystem (a tmpfs /tmp, a
		// mounted data volume), and big renders never land in RAM.
		NoTempDir:   true,
		DirFileMode: 0o750,
	})
	if err != nil {
		return nil, fmt.Errorf("open blob dir %s: %w", dir, err)
	}
	return &Store{
		bucket:    b,
		scheme:    "file",
		logger:    logger,
		signer:    signer,
		secret:    secret,
		linkBase:  base,
		localRoot: dir,
	}, nil
}

func linkBase(publicBaseURL, downloadPath string) (*url.URL, error) {
	if publicBaseURL == "" {
		return nil, errors.New("open blob storage: PublicBaseURL is required for file:// links")
	}
	base, err := url.Parse(publicBaseURL)
	if err != nil {
		return nil, fmt.Errorf("parse public base url: %w", err)
	}
	if (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("open blob storage: public base url %q must be an absolute http(s) URL", publicBaseURL)
	}
	if downloadPath == "" {
		downloadPath = DefaultDownloadPath
	}
	if !strings.HasPrefix(downloadPath, "/") {
		return nil, fmt.Errorf("open blob storage: download path %q must start with /", downloadPath)
	}
	if !strings.HasSuffix(downloadPath, "/") {
		downloadPath += "/"
	}
	out := &url.URL{Scheme: base.Scheme, Host: base.Host, Path: strings.TrimSuffix(base.Path, "/") + downloadPath}
	return out, nil
}

// Check reports whether the storage answers and its bucket exists, so that
// a wrong endpoint, bucket name or credentials shows at start rather than at
// the first upload.
func (s *Store) Check(ctx context.Context) error {
	ok, err := s.bucket.IsAccessible(ctx)
	if err != nil {
		return fmt.Errorf("reach blob storage: %w", err)
	}
	if !ok {
		return errors.New("reach blob storage: the bucket does not exist")
	}
	return nil
}

// Close releases the bucket.
func (s *Store) Close() error {
	if err := s.bucket.Close(); err != nil {
		return fmt.Errorf("close blob bucket: %w", err)
	}
	return nil
}

// Put streams r into the blob at key and returns the bytes written. An empty
// contentType is sniffed from the first bytes. Nothing is buffered whole:
// fileblob writes a temp file and renames it into place on success; s3blob
// uploads in parts. If r fails or ctx ends, the previous blob (if any) stays
// and no partial blob is left.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, contentType string) (int64, error) {
	if err := ValidateKey(key); err != nil {
		return 0, err
	}
	// Cancelling the writer's context before Close is gocloud's way to
	// abort a write; otherwise Close would commit what was copied so far.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := s.bucket.NewWriter(wctx, key, &gcblob.WriterOptions{ContentType: contentType})
	if err != nil {
		return 0, fmt.Errorf("put blob %q: %w", key, err)
	}
	n, err := io.Copy(w, r)
	if err != nil {
		cancel()
		_ = w.Close()
		return n, fmt.Errorf("put blob %q: %w", key, err)
	}
	if err := w.Close(); err != nil {
		return n, fmt.Errorf("put blob %q: %w", key, err)
	}
	return n, nil
}

// PutFile streams the local file at path into the blob at key.
func (s *Store) PutFile(ctx context.Context, key, path, contentType string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("put blob %q: %w", key, err)
	}
	defer f.Close()
	return s.Put(ctx, key, f, contentType)
}

// Open returns a reader of the whole blob at key.
func (s *Store) Open(ctx context.Context, key string) (*Reader, error) {
	return s.NewRangeReader(ctx, key, 0, -1)
}

// NewRangeReader returns a reader of length bytes of the blob at key from
// offset; a negative length reads to the end.
func (s *Store) NewRangeReader(ctx context.Context, key string, offset, length int64) (*Reader, error) {
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	r, err := s.bucket.NewRangeReader(ctx, key, offset, length, nil)
	if err != nil {
		return nil, s.wrap("read", key, err)
	}
	return r, nil
}

// Attributes returns size, content type, modification time and ETag of the
// blob at key.
func (s *Store) Attributes(ctx context.Context, key string) (Attributes, error) {
	if err := ValidateKey(key); err != nil {
		return Attributes{}, err
	}
	a, err := s.bucket.Attributes(ctx, key)
	if err != nil {
		return Attributes{}, s.wrap("stat", key, err)
	}
	return Attributes{
		Size:        a.Size,
		ContentType: a.ContentType,
		ModTime:     a.ModTime,
		ETag:        a.ETag,
		MD5:         a.MD5,
	}, nil
}

// Exists reports whether a blob exists at key.
func (s *Store) Exists(ctx context.Context, key string) (bool, error) {
	if err := ValidateKey(key); err != nil {
		return false, err
	}
	ok, err := s.bucket.Exists(ctx, key)
	if err != nil {
		return false, s.wrap("check", key, err)
	}
	return ok, nil
}

// Keys lists the keys of the blobs under prefix, in order.
func (s *Store) Keys(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	it := s.bucket.List(&gcblob.ListOptions{Prefix: prefix})
	for {
		o, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			return keys, nil
		}
		if err != nil {
			return nil, s.wrap("list", prefix, err)
		}
		keys = append(keys, o.Key)
	}
}

// Delete removes the blob at key. A missing blob is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	err := s.bucket.Delete(ctx, key)
	if err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		return s.wrap("delete", key, err)
	}
	return nil
}

// SignedURL returns a link that lets anyone holding it GET the blob at key
// until the returned time. For file:// storage it is an HMAC-signed link on
// PublicBaseURL + DownloadPath, served by Handler; for s3:// a presigned
// URL. filename (default: the key's last element) is sent as the
// Content-Disposition attachment name. The blob's existence is not checked.
func (s *Store) SignedURL(ctx context.Context, key string, ttl time.Duration, filename string) (string, time.Time, error) {
	if err := ValidateKey(key); err != nil {
		return "", time.Time{}, err
	}
	if ttl <= 0 {
		return "", time.Time{}, fmt.Errorf("sign blob %q: ttl must be positive, got %s", key, ttl)
	}
	name := sanitizeFilename(filename)
	if name == "" {
		name = sanitizeFilename(path.Base(key))
	}
	if s.scheme == "s3" {
		return s.signS3(ctx, key, ttl, name)
	}
	return s.signFile(ctx, key, ttl, name)
}

func (s *Store) signFile(ctx context.Context, key string, ttl time.Duration, name string) (string, time.Time, error) {
	raw, err := s.bucket.SignedURL(ctx, key, &gcblob.SignedURLOptions{Expiry: ttl, Method: http.MethodGet})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign blob %q: %w", key, err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign blob %q: parse signed url: %w", key, err)
	}
	q := u.Query()
	exp, err := strconv.ParseInt(q.Get("expiry"), 10, 64)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign blob %q: signer gave no expiry: %w", key, err)
	}
	// fileblob signs obj, expiry and method only. The file name travels as
	// the last path element (so curl -O and browsers pick it up) and is
	// bound to that signature by a second MAC, so a holder of the link
	// cannot rename the download.
	u.Path += name
	u.RawPath = ""
	q.Set("fsig", s.filenameMAC(q.Get("signature"), name))
	u.RawQuery = q.Encode()
	return u.String(), time.Unix(exp, 0), nil
}

func (s *Store) signS3(ctx context.Context, key string, ttl time.Duration, name string) (string, time.Time, error) {
	if ttl > maxS3TTL {
		return "", time.Time{}, fmt.Errorf("sign blob %q: ttl %s exceeds the S3 maximum of %s", key, ttl, maxS3TTL)
	}
	disposition := contentDisposition(name)
	raw, err := s.bucket.SignedURL(ctx, key, &gcblob.SignedURLOptions{
		Expiry: ttl,
		Method: http.MethodGet,
		BeforeSign: func(as func(any) bool) error {
			var in *s3.GetObjectInput
			if as(&in) && disposition != "" {
				in.ResponseContentDisposition = &disposition
			}
			return nil
		},
	})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign blob %q: %w", key, err)
	}
	exp, err := s3Expiry(raw)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign blob %q: %w", key, err)
	}
	return raw, exp, nil
}

// s3Expiry reads the expiry out of a SigV4 presigned URL.
func s3Expiry(raw string) (time.Time, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse presigned url: %w", err)
	}
	q := u.Query()
	signed, err := time.Parse("20060102T150405Z", q.Get("X-Amz-Date"))
	if err != nil {
		return time.Time{}, fmt.Errorf("parse presigned url date: %w", err)
	}
	secs, err := strconv.Atoi(q.Get("X-Amz-Expires"))
	if err != nil {
		return time.Time{}, fmt.Errorf("parse presigned url expiry: %w", err)
	}
	return signed.Add(time.Duration(secs) * time.Second), nil
}

// keyFromLink checks a file:// download link and returns the blob key and
// the download file name. Errors wrap ErrLinkExpired or ErrLinkInvalid.
func (s *Store) keyFromLink(ctx context.Context, u *url.URL) (key, name string, err error) {
	if s.signer == nil {
		return "", "", fmt.Errorf("check link: %w: storage has no local links", ErrLinkInvalid)
	}
	q := u.Query()
	if q.Get("method") != http.MethodGet {
		return "", "", fmt.Errorf("check link: %w: not a download link", ErrLinkInvalid)
	}
	key, err = s.signer.KeyFromURL(ctx, u)
	if err != nil {
		// fileblob answers the same for "expired" and "forged". An
		// expiry in the past is reported as expired even if the
		// signature is also wrong: the link is refused either way and
		// the message is the more useful one.
		if exp, perr := strconv.ParseInt(q.Get("expiry"), 10, 64); perr == nil && time.Now().Unix() > exp {
			return "", "", fmt.Errorf("check link: %w", ErrLinkExpired)
		}
		return "", "", fmt.Errorf("check link: %w: %w", ErrLinkInvalid, err)
	}
	name = u.Path[strings.LastIndexByte(u.Path, '/')+1:]
	want := s.filenameMAC(q.Get("signature"), name)
	if !hmac.Equal([]byte(q.Get("fsig")), []byte(want)) {
		return "", "", fmt.Errorf("check link: %w: file name does not match its signature", ErrLinkInvalid)
	}
	if err := ValidateKey(key); err != nil {
		return "", "", fmt.Errorf("check link: %w: %w", ErrLinkInvalid, err)
	}
	return key, name, nil
}

// filenameMAC binds a download file name to a fileblob link signature.
// The key is derived from the secret so the two MACs never share a key.
func (s *Store) filenameMAC(signature, name string) string {
	kdf := hmac.New(sha256.New, s.secret)
	kdf.Write([]byte("outpost blob link filename v1"))
	m := hmac.New(sha256.New, kdf.Sum(nil))
	m.Write([]byte(signature))
	m.Write([]byte{0})
	m.Write([]byte(name))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (s *Store) wrap(verb, key string, err error) error {
	if gcerrors.Code(err) == gcerrors.NotFound {
		return fmt.Errorf("%s blob %q: %w: %w", verb, key, ErrNotFound, err)
	}
	return fmt.Errorf("%s blob %q: %w", verb, key, err)
}

// sanitizeFilename makes name safe as a download file name and a URL path
// element: no separators, quotes or control characters, at most 200 bytes.
func sanitizeFilename(name string) string {
	name = strings.ToValidUTF8(name, "_")
	name = strings.Map(func(r rune) rune {
		switch {
		case r < 0x20, r == 0x7f, r == '/', r == '\\', r == '"':
			return '_'
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	for len(name) > 200 {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	if strings.Trim(name, ".") == "" {
		return ""
	}
	return name
}

// contentDisposition formats an attachment header for name (RFC 6266,
// with RFC 2231 encoding for non-ASCII names).
func contentDisposition(name string) string {
	if name == "" {
		return "attachment"
	}
	if v := mime.FormatMediaType("attachment", map[string]string{"filename": name}); v != "" {
		return v
	}
	return "attachment"
}
