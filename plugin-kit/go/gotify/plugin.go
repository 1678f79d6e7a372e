// Package plugin is Gotify's plugin-api v1 (`github.com/gotify/plugin-api`) on Flow: every name
// is an alias of Flow's `github.com/Flow/plugin-api`, so a Gotify plugin compiles against it
// unchanged and `flow-plugin build-go` runs it as a Flow plugin. Gotify's loader looks for the
// exported functions GetGotifyPluginInfo and NewGotifyPluginInstance.
package plugin

import flow "github.com/Flow/plugin-api"

type (
	Plugin         = flow.Plugin
	UserContext    = flow.UserContext
	Info           = flow.Info
	Configurer     = flow.Configurer
	Displayer      = flow.Displayer
	Message        = flow.Message
	MessageHandler = flow.MessageHandler
	Messenger      = flow.Messenger
	StorageHandler = flow.StorageHandler
	Storager       = flow.Storager
	Webhooker      = flow.Webhooker

	// Flow's additions, for Gotify-path plugins that want them.
	ReceivedMessage  = flow.ReceivedMessage
	Subscriber       = flow.Subscriber
	KeyValueHandler  = flow.KeyValueHandler
	KeyValueStorager = flow.KeyValueStorager
	Logger           = flow.Logger
	LoggerUser       = flow.LoggerUser
)

// Serve runs a Gotify plugin as a Flow plugin executable; see flow.Serve.
func Serve(getInfo func() Info, newInstance func(UserContext) Plugin) {
	flow.Serve(getInfo(), newInstance)
}
