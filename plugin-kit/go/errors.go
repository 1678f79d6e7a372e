package plugin

import "fmt"

// Error codes of Flow's plugin protocol (spec/protocol.md section 10).
const (
	CodeParseError          = -32700
	CodeInvalidRequest      = -32600
	CodeMethodNotFound      = -32601
	CodeInvalidParams       = -32602
	CodeInternalError       = -32603
	CodeRequestCancelled    = -32800
	CodePluginError         = 1000
	CodeTimeout             = 1001
	CodeUnknownInstance     = 1002
	CodeNotSupported        = 1003
	CodeTransportClosed     = 1004
	CodeIncompatibleVersion = 1005
	CodeNotInitialized      = 1006
	CodeInvalidConfig       = 1007
	CodeQuotaExceeded       = 1008
	CodeShuttingDown        = 1009
	CodeFrameTooLarge       = 1010
)

// HostError is the error a call to the server (SendMessage, Save, Load, the key-value store)
// returns when the server refused it or did not answer: Code is one of the Code* constants
// (CodeQuotaExceeded for a write over the storage quota, CodeTimeout, CodeTransportClosed...).
type HostError struct {
	Code    int         `json:"code"`
	Message string      `json:"message"`
	Data    interface{} `json:"data,omitempty"`
}

func (e *HostError) Error() string { return e.Message }

// rpcError builds the error member of a response.
func rpcError(code int, format string, args ...interface{}) *HostError {
	return &HostError{Code: code, Message: fmt.Sprintf(format, args...)}
}
