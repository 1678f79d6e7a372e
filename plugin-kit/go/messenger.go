package plugin

// Message is a message a plugin sends as its user's internal application.
type Message struct {
	Message  string
	Title    string
	Priority int
	Extras   map[string]interface{}
}

// MessageHandler sends messages; the kit gives one to every Messenger instance.
type MessageHandler interface {
	// SendMessage stores and streams msg like one posted to POST /message, as the instance's
	// application. It returns once the server has stored it.
	SendMessage(msg Message) error
}

// Messenger is the interface a plugin that sends messages implements.
type Messenger interface {
	Plugin
	SetMessageHandler(h MessageHandler)
}
