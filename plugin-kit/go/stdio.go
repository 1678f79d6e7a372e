package plugin

import (
	"os"

	"github.com/gin-gonic/gin"
)

// protocolOut is the real stdout, kept for protocol frames (and --info). File descriptor 1 itself
// is pointed at stderr before anything else in the program can write to it: fmt.Println, the
// log package configured for stdout, and gin's debug writer (which holds the os.Stdout it saw at
// its own init) all land in the plugin's log instead of corrupting the protocol.
//
// This runs in this package's init, which Go runs before the init functions and main of the
// plugin package that imports it (gin's init writes nothing).
var protocolOut *os.File

func init() {
	protocolOut = takeStdout()
	if os.Getenv("GIN_MODE") == "" {
		// Route tables of thousands of instances are not worth a debug line each.
		gin.SetMode(gin.ReleaseMode)
	}
}
