//go:build skeinlockcheck

package lock

// checkBuild is true when the program was built with -tags skeinlockcheck:
// every lock without its own checker reports to defaultChecker.
const checkBuild = true

var defaultChecker = mustChecker()

// mustChecker makes the program-wide checker of a checked build.
func mustChecker() *Checker {
	c, err := NewChecker()
	if err != nil {
		panic(err) // unreachable: the default options are valid
	}
	return c
}
