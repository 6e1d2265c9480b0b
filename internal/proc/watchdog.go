//go:build unix

package proc

import (
	"fmt"
	"io"
	"os/exec"
	"sync"
)

// watchdogScript is a process that outlives loom to kill the groups of its running commands
// when loom dies. loom writes "+PGID" when a command starts and "-PGID" when it ends; the end
// of its input, which the kernel closes whatever killed loom, kills every group still listed.
// It ignores the signals a terminal sends its whole process group, so Ctrl-C does not end it
// before loom has stopped the commands itself.
const watchdogScript = `trap '' INT TERM HUP QUIT
live=" "
while read -r op g; do
	case $op in
	+) live="$live$g " ;;
	-) case "$live" in *" $g "*) live="${live%% $g *} ${live#* $g }" ;; esac ;;
	esac
done
for g in $live; do kill -s KILL -- "-$g" 2>/dev/null; done
`

var watchdog struct {
	once sync.Once
	mu   sync.Mutex
	w    io.WriteCloser // nil when the watchdog could not start: Reap is then the only net
}

// watch tells the watchdog about a group that starts (+) or ends (-).
func watch(op byte, pgid int) {
	watchdog.once.Do(func() {
		cmd := exec.Command("sh", "-c", watchdogScript)
		w, err := cmd.StdinPipe()
		if err == nil && cmd.Start() == nil {
			watchdog.w = w
			go cmd.Wait() // reaps it if it ever ends before loom
		}
	})
	watchdog.mu.Lock()
	defer watchdog.mu.Unlock()
	if watchdog.w != nil {
		fmt.Fprintf(watchdog.w, "%c %d\n", op, pgid)
	}
}
