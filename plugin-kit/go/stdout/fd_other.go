//go:build !unix

package stdout

import "os"

// takeStdout without file descriptors to move: keep the real stdout for the protocol and send
// what Go code prints through os.Stdout to stderr (the plugin kit also points gin's writer there).
func takeStdout() *os.File {
	out := os.Stdout
	os.Stdout = os.Stderr
	return out
}
