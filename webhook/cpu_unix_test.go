//go:build unix

package webhook_test

import (
	"syscall"
	"time"
)

// processCPU is the user and system CPU time of this process so far. On a
// machine shared with other work, CPU time per operation is steadier than
// wall time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
