package remote

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFileStore(t *testing.T) {
	s, err := Open("file://" + t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := s.Get(ctx, "actions/ab/x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get of nothing: %v", err)
	}
	if err := s.Put(ctx, "actions/ab/x", strings.NewReader("one"), 3, true); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "actions/ab/x", strings.NewReader("two"), 3, true); !errors.Is(err, ErrExists) {
		t.Errorf("a second conditional Put: %v", err)
	}
	r, err := s.Get(ctx, "actions/ab/x")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r)
	r.Close()
	if has, _ := s.Has(ctx, "actions/ab/x"); string(b) != "one" || !has {
		t.Errorf("got %q, has %v", b, has)
	}
}

func TestOpenRejects(t *testing.T) {
	for _, u := range []string{"http://x", "s3://", "file://", "x"} {
		if _, err := Open(u); err == nil {
			t.Errorf("%s: accepted", u)
		}
	}
}

// TestAWSSettings: the environment wins; without it the profile in the shared files.
func TestAWSSettings(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "credentials"), []byte("[default]\naws_access_key_id = A\naws_secret_access_key = B\n[ci]\naws_access_key_id=C\naws_secret_access_key=D\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "config"), []byte("[profile ci]\nregion = eu-west-3\n"), 0o600)
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_PROFILE", "ci")
	s, err := awsSettings()
	if err != nil || s.key != "C" || s.secret != "D" || s.region != "eu-west-3" {
		t.Errorf("profile ci: %+v %v", s, err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "E")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "F")
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9000")
	if s, _ := awsSettings(); s.key != "E" || s.endpoint != "http://127.0.0.1:9000" {
		t.Errorf("environment: %+v", s)
	}
	t.Setenv("AWS_PROFILE", "none")
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	if _, err := awsSettings(); err == nil {
		t.Error("no credentials accepted")
	}
}
