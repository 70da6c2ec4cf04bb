//go:build race

package proc

// raceEnabled reports a binary built with -race. Its workers, which run
// the same binary, would otherwise sleep a second at every exit (the race
// runtime's atexit_sleep_ms default), which makes every graceful shutdown
// and recycling take a second.
const raceEnabled = true
