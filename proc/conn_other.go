//go:build unix && !linux

package proc

import "net"

// quiet returns c: the monitor-thread wake-ups that quietConn avoids on
// Linux are left alone elsewhere.
func quiet(c net.Conn) net.Conn { return c }
