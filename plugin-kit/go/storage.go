package plugin

// StorageHandler saves and loads the instance's storage blob, kept by the server.
type StorageHandler interface {
	// Save replaces the whole blob. It returns once the server stored it durably.
	Save(b []byte) error
	// Load returns the blob; empty when nothing was saved yet.
	Load() ([]byte, error)
}

// Storager is the interface a plugin that keeps per-user data in the server implements.
type Storager interface {
	Plugin
	SetStorageHandler(handler StorageHandler)
}
