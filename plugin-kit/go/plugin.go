// Package plugin is Flow's Go plugin API: the seed's `github.com/Flow/plugin-api`, which is
// Gotify's plugin-api v1 (same types, same interfaces, same rules), plus Serve, which runs a
// plugin as the standalone executable Flow starts, and Flow's additions (subscriber.go).
//
// The same API is importable as `github.com/gotify/plugin-api` (folder gotify/, type aliases of
// this package), so Gotify plugins compile against it unchanged. `flow-plugin build-go` builds
// either kind of package into one executable; see README.md.
package plugin

// Plugin is the interface every plugin instance implements.
type Plugin interface {
	// Enable is called every time a plugin is started. Spawn custom goroutines here for polling, etc.
	// It is always called after ^Set.*Handler$ (and after ValidateAndSetConfig for a Configurer).
	Enable() error
	// Disable is called every time a plugin is disabled. Plugins should stop all custom goroutines here.
	Disable() error
}

// UserContext is provided when calling New to create a plugin instance for each user. It is a
// snapshot taken when the instance is created.
type UserContext struct {
	ID    uint
	Name  string
	Admin bool
}

// Info is returned by the exported plugin function GetFlowPluginInfo (GetGotifyPluginInfo for
// Gotify plugins) for identification. Plugins are identified by their ModulePath, which must
// not be empty.
type Info struct {
	Version     string
	Author      string
	Name        string
	Website     string
	Description string
	License     string
	ModulePath  string
}
