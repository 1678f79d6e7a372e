package plugin

import (
	"os"

	"github.com/Flow/plugin-api/stdout"
	"github.com/gin-gonic/gin"
)

// protocolOut is the real stdout, kept by package stdout (which moved file descriptor 1 to stderr
// before this package's init, and, built with flow-plugin build-go, before any other package's).
var protocolOut *os.File

func init() {
	protocolOut = stdout.Protocol
	// Where no descriptor can be moved (Windows) gin still holds the real stdout: point it away.
	gin.DefaultWriter = os.Stderr
	gin.DefaultErrorWriter = os.Stderr
	if os.Getenv("GIN_MODE") == "" {
		// Route tables of thousands of instances are not worth a debug line each.
		gin.SetMode(gin.ReleaseMode)
	}
}
