//go:build !race

package proc

// raceEnabled reports a binary built with -race.
const raceEnabled = false
