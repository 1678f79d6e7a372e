package plugin

import "net/url"

// Displayer is the interface a plugin that shows Markdown on its page in the web UI implements.
type Displayer interface {
	Plugin
	// GetDisplay is called on every view of the plugin's page, enabled or not. location is the
	// server's absolute URL as the user's browser sees it: Scheme and Host, and in Path the
	// reverse-proxy prefix the server runs under ("" without one, as in Gotify; "/flow" when the
	// server is reached at https://host/flow/). location.String() + basePath is therefore the
	// absolute URL of the instance's webhooks.
	GetDisplay(location *url.URL) string
}
