//go:build race

package model

// raceOn: the race detector slows the differential test tenfold.
const raceOn = true
