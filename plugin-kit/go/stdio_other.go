//go:build !unix

package plugin

import (
	"os"

	"github.com/gin-gonic/gin"
)

// takeStdout without file descriptors to move: keep the real stdout for the protocol and send
// what Go code prints through os.Stdout to stderr.
func takeStdout() *os.File {
	out := os.Stdout
	os.Stdout = os.Stderr
	gin.DefaultWriter = os.Stderr
	return out
}
