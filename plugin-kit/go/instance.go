package plugin

import (
	"sync"
)

// instance is one user's plugin instance and the kit's state about it.
type instance struct {
	id       string
	user     UserContext
	basePath string
	plugin   Plugin

	// lifecycle serialises Enable, Disable, config and destroy of this instance. Webhooks and
	// displays do not take it: they may overlap lifecycle calls (spec section 8).
	lifecycle  sync.Mutex
	enabled    bool
	configured bool
}

// capabilitiesOf lists what p implements, in Gotify's order, then Flow's.
func capabilitiesOf(p Plugin) []string {
	caps := []string{}
	if _, ok := p.(Configurer); ok {
		caps = append(caps, "configurer")
	}
	if _, ok := p.(Displayer); ok {
		caps = append(caps, "displayer")
	}
	if _, ok := p.(Messenger); ok {
		caps = append(caps, "messenger")
	}
	_, blob := p.(Storager)
	_, kv := p.(KeyValueStorager)
	if blob || kv {
		caps = append(caps, "storager")
	}
	if _, ok := p.(Webhooker); ok {
		caps = append(caps, "webhooker")
	}
	if _, ok := p.(Subscriber); ok {
		caps = append(caps, "subscriber")
	}
	return caps
}

func hasCapability(caps []string, name string) bool {
	for _, c := range caps {
		if c == name {
			return true
		}
	}
	return false
}
