package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/loom-ml/loom/pipeline"
	"github.com/loom-ml/loom/remote"
)

// remoteFlags choose a remote cache: --remote URL, or LOOM_REMOTE.
type remoteFlags struct {
	url, mode string
}

func (rf *remoteFlags) register(fs *flag.FlagSet, withMode bool) {
	fs.StringVar(&rf.url, "remote", os.Getenv("LOOM_REMOTE"), "a shared cache: s3://BUCKET/PREFIX or file:///PATH (default $LOOM_REMOTE)")
	if withMode {
		fs.StringVar(&rf.mode, "remote-mode", pipeline.RemoteReadWrite, "read, write or readwrite")
	}
}

// open returns the remote's store, nil without one (an error when required).
func (rf *remoteFlags) open(required bool) (remote.Store, error) {
	switch rf.mode {
	case "", pipeline.RemoteRead, pipeline.RemoteWrite, pipeline.RemoteReadWrite:
	default:
		return nil, usagef("--remote-mode must be read, write or readwrite, not %q", rf.mode)
	}
	if rf.url == "" {
		if required {
			return nil, usagef("no remote: give --remote URL or set LOOM_REMOTE")
		}
		return nil, nil
	}
	s, err := remote.Open(rf.url)
	if err != nil {
		return nil, usagef("%v", err)
	}
	return s, nil
}

// remoteCommand parses the flags of push and pull: the manifest and a required remote.
func remoteCommand(name string, args []string) (*manifestFlags, remote.Store, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	var mf manifestFlags
	mf.register(fs, false)
	var rf remoteFlags
	rf.register(fs, false)
	if err := parseNoArgs(fs, args); err != nil {
		return nil, nil, err
	}
	store, err := rf.open(true)
	return &mf, store, err
}

func cmdPush(_ context.Context, args []string, stdout, stderr io.Writer) error {
	mf, store, err := remoteCommand("push", args)
	if err != nil {
		return err
	}
	sum, err := pipeline.LastRun(mf.file)
	if err != nil {
		return err
	}
	n, err := pipeline.Push(pipeline.LayoutOf(filepath.Dir(mf.file)).Dir(), store, sum.Actions, stderr)
	fmt.Fprintf(stdout, "pushed %d entries to %s\n", n, store)
	return err
}

func cmdPull(_ context.Context, args []string, stdout, stderr io.Writer) error {
	mf, store, err := remoteCommand("pull", args)
	if err != nil {
		return err
	}
	ws, err := mf.open()
	if err != nil {
		return err
	}
	n, err := ws.Pull(store, stderr)
	fmt.Fprintf(stdout, "pulled %d entries from %s\n", n, store)
	return err
}
