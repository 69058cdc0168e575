//go:build race

package webtest

// raceEnabled reports whether the test binary was built with -race.
const raceEnabled = true
