//go:build !unix

package track_test

import "time"

// cpuTime is not measured here: per-CPU-second metrics read as infinite,
// and the wall-clock metrics are the ones to compare.
func cpuTime() time.Duration { return 0 }
