package plugin

import "github.com/gin-gonic/gin"

// Webhooker is the interface a plugin that serves HTTP requests under a per-user URL implements.
type Webhooker interface {
	Plugin
	// RegisterWebhook is called once, when the instance is created, enabled or not. basePath is
	// "/plugin/<id>/custom/<token>/" (stable across restarts); mux is a gin group mounted there:
	// register every route on it here (GET, POST, Any, Group, Use...). The server relays only
	// requests for enabled instances and answers "plugin is disabled" (400) itself otherwise.
	RegisterWebhook(basePath string, mux *gin.RouterGroup)
}
