package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// chromium returns the browser to load reports in: LOOM_CHROMIUM, or chromium on PATH. .ci/run
// installs Debian's chromium and sets LOOM_REQUIRE_TOOLS=1, so that in CI its absence fails.
func chromium(t *testing.T) string {
	t.Helper()
	if bin, err := exec.LookPath("chromium"); err == nil && os.Getenv("LOOM_CHROMIUM") == "" {
		return bin
	}
	return tool(t, "LOOM_CHROMIUM", "Debian's chromium")
}

// quiet are the flags that stop the browser's own background requests, so that what the
// network log holds is what the page asked for.
var quiet = []string{"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--disable-background-networking",
	"--disable-component-update", "--disable-sync", "--no-first-run", "--disable-default-apps", "--disable-extensions",
	"--disable-client-side-phishing-detection", "--disable-features=Translate,OptimizationHints,MediaRouter,SpellCheck"}

// browserOwn are hosts the browser itself calls whatever the page (Google's services).
var browserOwn = regexp.MustCompile(`(^|\.)(google\.com|gvt1\.com|googleapis\.com)$`)

// browse loads page headless and returns its DOM after scripts ran, the console messages, the
// network requests the page made, and a screenshot's path.
func browse(t *testing.T, bin, page string) (dom string, console, requests []string, shot string) {
	t.Helper()
	dir := t.TempDir()
	netlog := filepath.Join(dir, "net.json")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	if err := runBrowser(t, func() *exec.Cmd {
		out.Reset()
		errOut.Reset()
		cmd := exec.CommandContext(ctx, bin, append(quiet, "--enable-logging=stderr", "--v=0", "--log-net-log="+netlog,
			"--user-data-dir="+filepath.Join(dir, "profile"), "--dump-dom", "file://"+page)...)
		cmd.Stdout, cmd.Stderr = &out, &errOut
		return cmd
	}); err != nil {
		t.Fatalf("chromium: %v\n%s", err, errOut.String())
	}
	for _, line := range strings.Split(errOut.String(), "\n") {
		if strings.Contains(line, ":CONSOLE") {
			console = append(console, line)
		}
	}
	log, _ := os.ReadFile(netlog)
	for _, m := range regexp.MustCompile(`"url":"([^"]*)"`).FindAllStringSubmatch(string(log), -1) {
		if u, err := url.Parse(m[1]); err == nil && u.Scheme != "file" && u.Scheme != "data" && !browserOwn.MatchString(u.Hostname()) {
			requests = append(requests, m[1])
		}
	}
	shot = filepath.Join(dir, "page.png")
	if err := runBrowser(t, func() *exec.Cmd {
		cmd := exec.CommandContext(ctx, bin, append(quiet, "--window-size=1280,2400", "--user-data-dir="+filepath.Join(dir, "profile2"),
			"--screenshot="+shot, "file://"+page)...)
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		return cmd
	}); err != nil {
		t.Fatalf("chromium screenshot: %v", err)
	}
	return out.String(), console, requests, shot
}

// runBrowser runs the command cmd makes, again up to twice when chromium dies of a signal:
// headless chromium on a VM without a GPU sometimes segfaults as it exits (about one run in
// six here), which says nothing of the page. Any other failure is returned at once.
func runBrowser(t *testing.T, cmd func() *exec.Cmd) error {
	t.Helper()
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		err = cmd().Run()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || !exit.ProcessState.Sys().(syscall.WaitStatus).Signaled() {
			return err
		}
		t.Logf("chromium died (%v) on attempt %d; running it again", err, attempt)
	}
	return err
}

// TestTheProbeSeesRequestsAndConsoleErrors: a page that logs an error and loads an image from
// the network is caught, so that the report's clean bill below means something.
func TestTheProbeSeesRequestsAndConsoleErrors(t *testing.T) {
	bin := chromium(t)
	page := filepath.Join(t.TempDir(), "probe.html")
	os.WriteFile(page, []byte(`<html><body><script>console.error("boom")</script><img src="http://127.0.0.1:9/x.png"></body></html>`), 0o644)
	_, console, requests, _ := browse(t, bin, page)
	if len(console) == 0 || len(requests) == 0 {
		t.Errorf("console %v, requests %v: the probe missed them", console, requests)
	}
}

// TestReportInABrowser loads the reports of examples/breast-cancer (two experiments) and
// examples/sweep in headless Chromium: no console message, no network request, and every chart
// there with its title. The sweep's report takes under a second.
func TestReportInABrowser(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	for _, ex := range []string{"breast-cancer", "sweep"} {
		copyTree(t, filepath.Join("examples", ex), filepath.Join(dir, "examples", ex))
	}
	for _, c := range []struct {
		example string
		sets    []string
		titles  []string
	}{
		{"breast-cancer", []string{"train.lr=0.001", "train.lr=0.003"}, []string{"learning curve of train", "ROC, evaluate",
			"precision-recall, evaluate", "confusion matrix, evaluate", "evaluate.f1 over the experiments"}},
		{"sweep", nil, []string{"optimisation history, tune", "parallel coordinates, tune", "param importance, tune", "learning curve of train"}},
	} {
		mf := filepath.Join(dir, "examples", c.example, "pipeline.yaml")
		for _, set := range append(c.sets, "")[:max(len(c.sets), 1)] {
			args := []string{"run", "-f", mf}
			if set != "" {
				args = append(args, "--set", set)
			}
			if code, _, stderr := loom(t, args...); code != 0 {
				t.Fatalf("%s: %s", c.example, stderr)
			}
		}
		page := filepath.Join(dir, c.example+".html")
		start := time.Now()
		if code, _, stderr := loom(t, "report", "-f", mf, "-o", page); code != 0 {
			t.Fatalf("report: %s", stderr)
		}
		took := time.Since(start)
		if took > time.Second {
			t.Errorf("%s: loom report took %v", c.example, took)
		}
		dom, console, requests, shot := browse(t, bin, page)
		if len(console) > 0 || len(requests) > 0 {
			t.Errorf("%s: console %v, network %v", c.example, console, requests)
		}
		if n := strings.Count(dom, "<svg"); n < len(c.titles) {
			t.Errorf("%s: %d charts", c.example, n)
		}
		for _, title := range c.titles {
			if !strings.Contains(dom, "<title>"+title+"</title>") {
				t.Errorf("%s: no chart %q", c.example, title)
			}
		}
		if fi, err := os.Stat(shot); err != nil || fi.Size() < 20_000 {
			t.Errorf("%s: screenshot %v %v", c.example, fi, err)
		}
		t.Logf("%s: %d charts, loom report %v", c.example, strings.Count(dom, "<svg"), took.Round(time.Millisecond))
	}
}
