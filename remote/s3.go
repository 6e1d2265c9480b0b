package remote

import (
	"context"
	"errors"
	"io"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// s3Store is a remote on an S3-compatible service. The client is made at the first request,
// from the standard AWS environment and files (see awsSettings), so that a run without a
// remote pays nothing for it. The SDK's config package is not used: its credential chain (SSO,
// STS, IMDS) added 4 ms of package initialisation to every loom command, remote or not.
type s3Store struct {
	bucket, prefix string

	once   sync.Once
	client *s3.Client
	err    error
}

func newS3Store(bucket, prefix string) *s3Store { return &s3Store{bucket: bucket, prefix: prefix} }

func (s *s3Store) String() string { return "s3://" + path.Join(s.bucket, s.prefix) }

func (s *s3Store) key(k string) *string { return aws.String(path.Join(s.prefix, k)) }

func (s *s3Store) s3(ctx context.Context) (*s3.Client, error) {
	s.once.Do(func() {
		set, err := awsSettings()
		if err != nil {
			s.err = err
			return
		}
		cfg := aws.Config{
			Region:      set.region,
			Credentials: credentials.NewStaticCredentialsProvider(set.key, set.secret, set.token),
			HTTPClient:  awshttp.NewBuildableClient().WithTimeout(60 * time.Second),
			// loom retries uploads itself, and a remote that is down must fail fast.
			Retryer: func() aws.Retryer { return retry.AddWithMaxAttempts(retry.NewStandard(), 2) },
		}
		s.client = s3.NewFromConfig(cfg, func(o *s3.Options) {
			o.UsePathStyle = true // endpoint/bucket/key works with every S3-compatible service
			if set.endpoint != "" {
				o.BaseEndpoint = aws.String(set.endpoint)
			}
		})
	})
	return s.client, s.err
}

func (s *s3Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	c, err := s.s3(ctx)
	if err != nil {
		return nil, err
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: s.key(key)})
	if isStatus(err, http.StatusNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return checkedBody{out.Body}, nil
}

// checkedBody turns the SDK's checksum failure, found at the end of a body, into ErrDamaged:
// the object is bad, the remote is fine.
type checkedBody struct{ io.ReadCloser }

func (b checkedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && strings.Contains(err.Error(), "checksum did not match") {
		err = ErrDamaged
	}
	return n, err
}

func (s *s3Store) Has(ctx context.Context, key string) (bool, error) {
	c, err := s.s3(ctx)
	if err != nil {
		return false, err
	}
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: s.key(key)})
	if isStatus(err, http.StatusNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Put uploads with If-None-Match: * when ifAbsent, so that an entry is never overwritten, even
// by two writers at once, on services that support conditional writes.
func (s *s3Store) Put(ctx context.Context, key string, r io.Reader, size int64, ifAbsent bool) error {
	c, err := s.s3(ctx)
	if err != nil {
		return err
	}
	in := &s3.PutObjectInput{Bucket: &s.bucket, Key: s.key(key), Body: r, ContentLength: aws.Int64(size)}
	if ifAbsent {
		in.IfNoneMatch = aws.String("*")
	}
	_, err = c.PutObject(ctx, in)
	if isStatus(err, http.StatusPreconditionFailed) || isStatus(err, http.StatusConflict) {
		return ErrExists
	}
	return err
}

// isStatus reports whether err is an HTTP response with the status code.
func isStatus(err error, code int) bool {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode() == code
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch code {
		case http.StatusNotFound:
			return ae.ErrorCode() == "NoSuchKey" || ae.ErrorCode() == "NotFound"
		case http.StatusPreconditionFailed:
			return ae.ErrorCode() == "PreconditionFailed"
		}
	}
	return false
}
