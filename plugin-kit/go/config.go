package plugin

// Configurer is the interface a plugin with a per-user YAML configuration implements.
//
// The stored configuration is yaml.Marshal(DefaultConfig()) until the user edits it. To apply a
// text, the kit does what Gotify 2.9 does: c := DefaultConfig(); yaml.Unmarshal(text, c) with
// gopkg.in/yaml.v3 (so DefaultConfig should return a pointer; keys the text lacks keep their
// defaults, unknown keys are ignored), then ValidateAndSetConfig(c).
type Configurer interface {
	Plugin
	// DefaultConfig returns the default configuration, usually a pointer to a struct with yaml tags.
	DefaultConfig() interface{}
	// ValidateAndSetConfig validates the decoded configuration and applies it. It must always
	// accept DefaultConfig(). Its error text is shown to the user: keep it short.
	ValidateAndSetConfig(c interface{}) error
}
