package plugin

import "time"

// Flow's additions to Gotify's API. Each is one more optional interface, detected by type
// assertion like Gotify's: Gotify plugins do not implement them and are not affected.

// ReceivedMessage is a new message of the instance's user, from one of the user's other
// applications (Gotify's message model).
type ReceivedMessage struct {
	ID            uint
	ApplicationID uint
	Message       string
	Title         string
	Priority      int
	Extras        map[string]interface{}
	Date          time.Time
}

// Subscriber is implemented by a plugin that wants its user's new messages (capability
// "subscriber"). ReceiveMessage is called for enabled instances only, once per message, each
// call in its own goroutine: a slow subscriber delays nobody.
type Subscriber interface {
	Plugin
	ReceiveMessage(msg ReceivedMessage)
}

// KeyValueHandler is the instance's key-value store: small named string values that can change
// one at a time, beside the storage blob and under the same quota. Keys are 1-256 characters.
type KeyValueHandler interface {
	// Get returns the value and whether the key is set.
	Get(key string) (value string, found bool, err error)
	Set(key, value string) error
	// Delete reports whether the key was set.
	Delete(key string) (deleted bool, err error)
	// List returns the keys starting with prefix ("" for all), sorted.
	List(prefix string) ([]string, error)
}

// KeyValueStorager is implemented by a plugin that uses the key-value store. It implies the
// "storager" capability.
type KeyValueStorager interface {
	Plugin
	SetKeyValueHandler(h KeyValueHandler)
}

// Logger writes structured lines to the server's log, tagged with the plugin and the instance.
// fields are key/value pairs: log.Info("poll done", "items", 3, "feed", url).
type Logger interface {
	Debug(message string, fields ...interface{})
	Info(message string, fields ...interface{})
	Warn(message string, fields ...interface{})
	Error(message string, fields ...interface{})
}

// LoggerUser is implemented by a plugin that wants a Logger. (The standard library's log
// package and anything printed with fmt.Print* also reach the server's log, unstructured.)
type LoggerUser interface {
	Plugin
	SetLogger(l Logger)
}
