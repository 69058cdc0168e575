//go:build !race

package store

// raceEnabled reports whether the tests run under the race detector.
const raceEnabled = false
