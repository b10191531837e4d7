//go:build !unix

package deltaclient

import "time"

// cpuTime is not measured here: records/cpu-s reads as infinite, and the
// wall-clock metrics are the ones to compare.
func cpuTime() time.Duration { return 0 }
