//go:build !unix

package proc

import (
	"errors"
	"os/exec"
	"time"
)

func configure(cmd *exec.Cmd, grace time.Duration) { cmd.WaitDelay = grace }

func killGroup(int) {}

func startTime(int) (uint64, error) { return 0, errors.ErrUnsupported }

func groupAlive(int) bool { return false }
