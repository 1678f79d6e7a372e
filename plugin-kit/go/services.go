package plugin

import (
	"encoding/base64"
	"encoding/json"
	"time"
)

// The host services an instance gets through its Set*Handler methods: each call is a request
// to the server with the spec's default deadline (section 6).

const hostCallTimeout = 10 * time.Second

type messageHandler struct {
	s          *server
	instanceID string
}

func (h messageHandler) SendMessage(msg Message) error {
	// Gotify sends exactly what the plugin set: an empty title and priority 0 included.
	params := map[string]interface{}{"instanceId": h.instanceID, "message": msg.Message, "title": msg.Title, "priority": msg.Priority}
	if msg.Extras != nil {
		params["extras"] = msg.Extras
	}
	_, err := h.s.callHost("message/send", params)
	return asError(err)
}

type storageHandler struct {
	s          *server
	instanceID string
}

func (h storageHandler) Save(b []byte) error {
	_, err := h.s.callHost("storage/save", map[string]string{"instanceId": h.instanceID, "data": base64.StdEncoding.EncodeToString(b)})
	return asError(err)
}

func (h storageHandler) Load() ([]byte, error) {
	raw, err := h.s.callHost("storage/load", map[string]string{"instanceId": h.instanceID})
	if err != nil {
		return nil, err
	}
	var r struct {
		Data string `json:"data"`
	}
	if e := json.Unmarshal(raw, &r); e != nil {
		return nil, rpcError(CodeInternalError, "storage/load: unexpected answer: %v", e)
	}
	data, e := base64.StdEncoding.DecodeString(r.Data)
	if e != nil {
		return nil, rpcError(CodeInternalError, "storage/load: the data is not base64: %v", e)
	}
	return data, nil
}

type keyValueHandler struct {
	s          *server
	instanceID string
}

func (h keyValueHandler) Get(key string) (string, bool, error) {
	raw, err := h.s.callHost("kv/get", map[string]string{"instanceId": h.instanceID, "key": key})
	if err != nil {
		return "", false, err
	}
	var r struct {
		Value *string `json:"value"`
	}
	if e := json.Unmarshal(raw, &r); e != nil {
		return "", false, rpcError(CodeInternalError, "kv/get: unexpected answer: %v", e)
	}
	if r.Value == nil {
		return "", false, nil
	}
	return *r.Value, true, nil
}

func (h keyValueHandler) Set(key, value string) error {
	_, err := h.s.callHost("kv/set", map[string]string{"instanceId": h.instanceID, "key": key, "value": value})
	return asError(err)
}

func (h keyValueHandler) Delete(key string) (bool, error) {
	raw, err := h.s.callHost("kv/delete", map[string]string{"instanceId": h.instanceID, "key": key})
	if err != nil {
		return false, err
	}
	var r struct {
		Deleted bool `json:"deleted"`
	}
	_ = json.Unmarshal(raw, &r)
	return r.Deleted, nil
}

func (h keyValueHandler) List(prefix string) ([]string, error) {
	params := map[string]string{"instanceId": h.instanceID}
	if prefix != "" {
		params["prefix"] = prefix
	}
	raw, err := h.s.callHost("kv/list", params)
	if err != nil {
		return nil, err
	}
	var r struct {
		Keys []string `json:"keys"`
	}
	if e := json.Unmarshal(raw, &r); e != nil {
		return nil, rpcError(CodeInternalError, "kv/list: unexpected answer: %v", e)
	}
	if r.Keys == nil {
		r.Keys = []string{}
	}
	return r.Keys, nil
}

// asError keeps a nil *HostError from becoming a non-nil error interface.
func asError(err *HostError) error {
	if err == nil {
		return nil
	}
	return err
}
