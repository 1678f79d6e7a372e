// Package stdout keeps the real standard output for Flow's plugin protocol and points file
// descriptor 1 at stderr, in its init. It imports nothing but the standard library, so it can be
// initialised before any other package of a plugin: `flow-plugin build-go` imports it from a
// generated file named to come first, and the plugin kit imports it too. After it ran,
// fmt.Println, the log package set to stdout and gin's debug writer (which holds the os.Stdout it
// saw at its own init) all write to stderr, the plugin's log, instead of corrupting the protocol.
package stdout

import "os"

// Protocol is the real stdout: only protocol frames (and --info) are written to it.
var Protocol *os.File

func init() {
	Protocol = takeStdout()
}
