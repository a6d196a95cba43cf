package blob

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"gocloud.dev/blob/s3blob"
)

// openS3 opens an s3:// URL through s3blob's URL opener, so every query
// parameter it documents (endpoint, region, use_path_style, ssetype, …)
// keeps working. Explicit credentials replace the default chain on the
// client the opener built, instead of going through the process
// environment.
func openS3(ctx context.Context, u *url.URL, opts Options, logger *slog.Logger) (*Store, error) {
	if (opts.S3AccessKeyID == "") != (opts.S3SecretAccessKey == "") {
		return nil, errors.New("open blob storage: set both S3 access key id and secret access key, or neither")
	}
	opener := &s3blob.URLOpener{}
	b, err := opener.OpenBucketURL(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("open s3 bucket %q: %w", u.Host, err)
	}
	var client *s3.Client
	if !b.As(&client) {
		_ = b.Close()
		return nil, errors.New("open blob storage: s3blob gave no *s3.Client")
	}
	if err := b.Close(); err != nil {
		return nil, fmt.Errorf("open s3 bucket %q: %w", u.Host, err)
	}
	// Rebuild the client the opener configured, changing only what the URL
	// cannot say.
	client = s3.New(client.Options(), func(o *s3.Options) {
		if opts.S3AccessKeyID != "" {
			static := credentials.NewStaticCredentialsProvider(opts.S3AccessKeyID, opts.S3SecretAccessKey, "")
			o.Credentials = aws.NewCredentialsCache(static)
		}
		// Objects uploaded in parts carry a composite checksum the SDK
		// cannot check on GET; it would log a warning on every read of
		// every large rendition.
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	// opener.Options now holds what the URL asked for (encryption,
	// checksum mode); reuse it for the rebuilt bucket.
	b, err = s3blob.OpenBucket(ctx, client, u.Host, &opener.Options)
	if err != nil {
		return nil, fmt.Errorf("open s3 bucket %q: %w", u.Host, err)
	}
	return &Store{bucket: b, scheme: "s3", logger: logger}, nil
}
