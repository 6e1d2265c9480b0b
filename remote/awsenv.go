package remote

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strings"
)

// settings are what an S3 client needs from the standard AWS environment.
type settings struct {
	region, endpoint   string
	key, secret, token string
}

// awsSettings reads, as the AWS CLI and SDKs do: AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL;
// AWS_REGION or AWS_DEFAULT_REGION, else the profile's region in AWS_CONFIG_FILE
// (~/.aws/config), else us-east-1; AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
// AWS_SESSION_TOKEN, else the profile (AWS_PROFILE, default "default") in
// AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials).
func awsSettings() (settings, error) {
	s := settings{
		endpoint: firstEnv("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"),
		region:   firstEnv("AWS_REGION", "AWS_DEFAULT_REGION"),
		key:      os.Getenv("AWS_ACCESS_KEY_ID"), secret: os.Getenv("AWS_SECRET_ACCESS_KEY"), token: os.Getenv("AWS_SESSION_TOKEN"),
	}
	profile := firstEnv("AWS_PROFILE")
	if profile == "" {
		profile = "default"
	}
	home, _ := os.UserHomeDir()
	if s.region == "" {
		file := firstEnv("AWS_CONFIG_FILE")
		if file == "" {
			file = filepath.Join(home, ".aws", "config")
		}
		section := "profile " + profile
		if profile == "default" {
			section = "default"
		}
		s.region = iniValue(file, section, "region")
	}
	if s.region == "" {
		s.region = "us-east-1" // S3-compatible services accept any region; the SDK needs one
	}
	if s.key == "" {
		file := firstEnv("AWS_SHARED_CREDENTIALS_FILE")
		if file == "" {
			file = filepath.Join(home, ".aws", "credentials")
		}
		s.key = iniValue(file, profile, "aws_access_key_id")
		s.secret = iniValue(file, profile, "aws_secret_access_key")
		s.token = iniValue(file, profile, "aws_session_token")
	}
	if s.key == "" || s.secret == "" {
		return s, errors.New("no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile in ~/.aws/credentials")
	}
	return s, nil
}

func firstEnv(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// iniValue returns key in [section] of an AWS ini file, or "".
func iniValue(path, section, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			in = strings.TrimSpace(line[1:len(line)-1]) == section
			continue
		}
		if k, v, ok := strings.Cut(line, "="); in && ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
