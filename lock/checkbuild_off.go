//go:build !skeinlockcheck

package lock

// checkBuild is false without -tags skeinlockcheck, which compiles the
// program-wide checking out of the fast paths entirely.
const checkBuild = false

var defaultChecker *Checker
