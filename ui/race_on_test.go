//go:build race

package ui

// raceDetector is on: the race detector slows work ten-fold, so the
// million-record end-to-end test takes a tenth of the records.
const raceDetector = true
