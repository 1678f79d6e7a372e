package plugin

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"
)

// stderrLog writes the kit's own log lines to stderr as JSON objects the server re-logs at
// their level (spec section 13): {"time","level","message","instanceId"?,"fields"?}.
type stderrLog struct {
	mu  sync.Mutex
	out io.Writer
}

func (l *stderrLog) write(level, message, instanceID string, fields map[string]interface{}) {
	line := struct {
		Time       string                 `json:"time"`
		Level      string                 `json:"level"`
		Message    string                 `json:"message"`
		InstanceID string                 `json:"instanceId,omitempty"`
		Fields     map[string]interface{} `json:"fields,omitempty"`
	}{time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), level, message, instanceID, fields}
	b, err := json.Marshal(line)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"level": level, "message": message})
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = l.out.Write(append(b, '\n'))
}

// instanceLogger is the Logger of one instance: log/write over the protocol once the host
// allows requests, a stderr line before that.
type instanceLogger struct {
	s          *server
	instanceID string
}

func (l instanceLogger) Debug(message string, fields ...interface{}) { l.log("debug", message, fields) }
func (l instanceLogger) Info(message string, fields ...interface{})  { l.log("info", message, fields) }
func (l instanceLogger) Warn(message string, fields ...interface{})  { l.log("warn", message, fields) }
func (l instanceLogger) Error(message string, fields ...interface{}) { l.log("error", message, fields) }

func (l instanceLogger) log(level, message string, pairs []interface{}) {
	fields := fieldsOf(pairs)
	if !l.s.initialized.Load() {
		l.s.log.write(level, message, l.instanceID, fields)
		return
	}
	params := map[string]interface{}{"level": level, "message": message, "instanceId": l.instanceID}
	if len(fields) > 0 {
		params["fields"] = fields
	}
	l.s.conn.notify("log/write", params)
}

// fieldsOf turns key/value pairs into an object; a key that is not a string is printed, a
// missing last value is null.
func fieldsOf(pairs []interface{}) map[string]interface{} {
	if len(pairs) == 0 {
		return nil
	}
	fields := make(map[string]interface{}, (len(pairs)+1)/2)
	for i := 0; i < len(pairs); i += 2 {
		key, ok := pairs[i].(string)
		if !ok {
			key = fmt.Sprint(pairs[i])
		}
		var value interface{}
		if i+1 < len(pairs) {
			value = pairs[i+1]
			if err, isErr := value.(error); isErr {
				value = err.Error()
			}
			if _, err := json.Marshal(value); err != nil {
				value = fmt.Sprint(value)
			}
		}
		fields[key] = value
	}
	return fields
}
