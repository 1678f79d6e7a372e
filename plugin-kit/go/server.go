package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gopkg.in/yaml.v3"
)

// server is the plugin side of Flow's protocol for one Go plugin: one process, every user's
// instance (as Gotify: plugins may share state across users), capabilities found by type
// assertion, the host's calls mapped onto Gotify's interfaces.

const protocolVersion = "1.0"

type server struct {
	info         Info
	newInstance  func(UserContext) Plugin
	capabilities []string

	conn  *conn
	log   *stderrLog
	relay *webhookRelay

	initializeMu sync.Mutex
	initDone     atomic.Bool // initialize answered
	initialized  atomic.Bool // initialized received: the plugin may call the host
	shutdown     atomic.Bool

	mu        sync.RWMutex
	instances map[string]*instance

	trimMu    sync.Mutex
	trimTimer *time.Timer
}

// trimAfterBurst returns the memory of a burst of instance creations (the server creates one per
// user at start, thousands at once) to the system once the burst is over: Go's collector would
// otherwise keep the burst's garbage, about as much again as the live heap, resident.
func (s *server) trimAfterBurst() {
	s.trimMu.Lock()
	defer s.trimMu.Unlock()
	if s.trimTimer == nil {
		s.trimTimer = time.AfterFunc(time.Second, debug.FreeOSMemory)
		return
	}
	s.trimTimer.Reset(time.Second)
}

func newServer(info Info, newInstance func(UserContext) Plugin, capabilities []string, c *conn, log *stderrLog) *server {
	s := &server{info: info, newInstance: newInstance, capabilities: capabilities, conn: c, log: log, instances: map[string]*instance{}}
	s.relay = newWebhookRelay()
	c.onRequest = s.handle
	c.onNotification = s.notification
	return s
}

func (s *server) callHost(method string, params interface{}) (json.RawMessage, *HostError) {
	if !s.initialized.Load() {
		return nil, rpcError(CodeNotInitialized, "%s: the server has not finished the handshake yet (call the server from Enable or later, not from NewInstance)", method)
	}
	return s.conn.call(method, params, hostCallTimeout)
}

func (s *server) pluginInfo() map[string]interface{} {
	info := map[string]interface{}{"modulePath": s.info.ModulePath}
	for key, value := range map[string]string{"name": s.info.Name, "version": s.info.Version, "author": s.info.Author, "website": s.info.Website, "license": s.info.License, "description": s.info.Description} {
		if value != "" {
			info[key] = value
		}
	}
	return info
}

func (s *server) notification(method string, params json.RawMessage) {
	switch method {
	case "initialized":
		if s.initDone.Load() {
			s.initialized.Store(true)
		}
	case "exit":
		s.exit()
	case "message/received":
		if s.initialized.Load() && hasCapability(s.capabilities, "subscriber") {
			s.messageReceived(params)
		}
	}
}

func (s *server) exit() {
	if s.shutdown.Load() {
		os.Exit(0)
	}
	os.Exit(1)
}

// handle answers one request of the host. Panics in plugin code become PluginError answers.
func (s *server) handle(ctx context.Context, method string, params json.RawMessage) (result interface{}, err *HostError) {
	if method == "initialize" {
		return s.initialize(params)
	}
	if !s.initDone.Load() {
		return nil, rpcError(CodeNotInitialized, "%s before initialize", method)
	}
	if s.shutdown.Load() {
		return nil, rpcError(CodeShuttingDown, "the plugin is shutting down")
	}
	switch method {
	case "ping":
		return struct{}{}, nil
	case "plugin/info":
		return map[string]interface{}{"info": s.pluginInfo(), "capabilities": s.capabilities}, nil
	case "shutdown":
		return s.stop()
	case "instance/create":
		return s.createInstance(params)
	}
	capability, known := methodCapability[method]
	if !known {
		return nil, rpcError(CodeMethodNotFound, "Unknown method %q", method)
	}
	if capability != "" && !hasCapability(s.capabilities, capability) {
		return nil, rpcError(CodeNotSupported, "%s needs the %s capability, which this plugin did not declare", method, capability)
	}
	var p struct {
		InstanceID *string `json:"instanceId"`
	}
	if e := json.Unmarshal(params, &p); e != nil || p.InstanceID == nil || *p.InstanceID == "" {
		return nil, invalidParams("instanceId", "Invalid input: expected a non-empty string")
	}
	inst := s.instance(*p.InstanceID)
	if inst == nil {
		e := rpcError(CodeUnknownInstance, "Unknown instance %q", *p.InstanceID)
		e.Data = map[string]string{"instanceId": *p.InstanceID}
		return nil, e
	}
	defer recoverAsPluginError(s.log, inst.id, method, &err)
	switch method {
	case "instance/destroy":
		return s.destroy(inst)
	case "instance/enable":
		return s.enable(inst)
	case "instance/disable":
		return s.disable(inst)
	case "config/default":
		return s.defaultConfig(inst)
	case "config/validateAndSet":
		return s.validateAndSet(inst, params)
	case "display/get":
		return s.display(inst, params)
	case "webhook/request":
		return s.relay.serve(ctx, s, inst, params)
	}
	return nil, rpcError(CodeMethodNotFound, "Unknown method %q", method)
}

// methodCapability: the host → plugin methods that need an instance, and their capability.
var methodCapability = map[string]string{
	"instance/destroy":      "",
	"instance/enable":       "",
	"instance/disable":      "",
	"config/default":        "configurer",
	"config/validateAndSet": "configurer",
	"display/get":           "displayer",
	"webhook/request":       "webhooker",
}

func invalidParams(path, message string) *HostError {
	e := rpcError(CodeInvalidParams, "Invalid params: %s: %s", path, message)
	e.Data = map[string]interface{}{"issues": []map[string]interface{}{{"path": []string{path}, "message": message}}}
	return e
}

// recoverAsPluginError turns a panic in plugin code into a PluginError answer; the stack goes to
// the log, not to the user.
func recoverAsPluginError(log *stderrLog, instanceID, what string, err **HostError) {
	if r := recover(); r != nil {
		log.write("error", fmt.Sprintf("the plugin panicked in %s: %v", what, r), instanceID, map[string]interface{}{"stack": string(debug.Stack())})
		*err = rpcError(CodePluginError, "the plugin failed (panic in %s): %v", what, r)
	}
}

func (s *server) instance(id string) *instance {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.instances[id]
}

func (s *server) initialize(params json.RawMessage) (interface{}, *HostError) {
	s.initializeMu.Lock()
	defer s.initializeMu.Unlock()
	if s.initDone.Load() {
		return nil, rpcError(CodeInvalidRequest, "initialize was already answered")
	}
	var p struct {
		ProtocolVersions []string `json:"protocolVersions"`
		Limits           struct {
			MaxFrameBytes int64 `json:"maxFrameBytes"`
		} `json:"limits"`
	}
	if e := json.Unmarshal(params, &p); e != nil || len(p.ProtocolVersions) == 0 {
		return nil, invalidParams("protocolVersions", "Invalid input: expected a non-empty array of strings")
	}
	chosen := ""
	for _, v := range p.ProtocolVersions {
		if strings.HasPrefix(v, "1.") {
			chosen = protocolVersion
			break
		}
	}
	if chosen == "" {
		e := rpcError(CodeIncompatibleVersion, "No common protocol version: the host speaks %s, this plugin speaks %s", strings.Join(p.ProtocolVersions, ", "), protocolVersion)
		e.Data = map[string]interface{}{"hostVersions": p.ProtocolVersions, "pluginVersions": []string{protocolVersion}}
		return nil, e
	}
	if p.Limits.MaxFrameBytes > 0 {
		s.conn.maxFrame.Store(p.Limits.MaxFrameBytes)
	}
	s.initDone.Store(true)
	return map[string]interface{}{"protocolVersion": chosen, "info": s.pluginInfo(), "capabilities": s.capabilities}, nil
}

func (s *server) createInstance(params json.RawMessage) (result interface{}, err *HostError) {
	var p struct {
		InstanceID      string `json:"instanceId"`
		WebhookBasePath string `json:"webhookBasePath"`
		User            *struct {
			ID    uint   `json:"id"`
			Name  string `json:"name"`
			Admin bool   `json:"admin"`
		} `json:"user"`
	}
	if e := json.Unmarshal(params, &p); e != nil {
		return nil, invalidParams("instanceId", e.Error())
	}
	if p.InstanceID == "" || len(p.InstanceID) > 128 {
		return nil, invalidParams("instanceId", "Invalid input: expected a string of 1-128 characters")
	}
	if p.User == nil || p.User.ID == 0 {
		return nil, invalidParams("user", "Invalid input: expected {id, name, admin} with a positive id")
	}
	if !strings.HasPrefix(p.WebhookBasePath, "/") || !strings.HasSuffix(p.WebhookBasePath, "/") {
		return nil, invalidParams("webhookBasePath", "Invalid input: expected an absolute path ending in /")
	}
	s.mu.Lock()
	if _, exists := s.instances[p.InstanceID]; exists {
		s.mu.Unlock()
		return nil, invalidParams("instanceId", fmt.Sprintf("instance %q already exists", p.InstanceID))
	}
	// Reserve the id while the plugin builds the instance.
	s.instances[p.InstanceID] = nil
	s.mu.Unlock()
	created := false
	defer func() {
		if !created {
			s.mu.Lock()
			delete(s.instances, p.InstanceID)
			s.mu.Unlock()
		}
	}()
	defer recoverAsPluginError(s.log, p.InstanceID, "NewInstance", &err)

	inst := &instance{id: p.InstanceID, user: UserContext{ID: p.User.ID, Name: p.User.Name, Admin: p.User.Admin}, basePath: p.WebhookBasePath}
	inst.plugin = s.newInstance(inst.user)
	if inst.plugin == nil {
		return nil, rpcError(CodePluginError, "the plugin's NewInstance returned nil")
	}
	// Gotify's order: the handlers first, so that Enable always comes after ^Set.*Handler$.
	if m, ok := inst.plugin.(Messenger); ok {
		m.SetMessageHandler(messageHandler{s, inst.id})
	}
	if st, ok := inst.plugin.(Storager); ok {
		st.SetStorageHandler(storageHandler{s, inst.id})
	}
	if kv, ok := inst.plugin.(KeyValueStorager); ok {
		kv.SetKeyValueHandler(keyValueHandler{s, inst.id})
	}
	if l, ok := inst.plugin.(LoggerUser); ok {
		l.SetLogger(instanceLogger{s, inst.id})
	}
	if w, ok := inst.plugin.(Webhooker); ok && hasCapability(s.capabilities, "webhooker") {
		s.relay.register(inst, w)
	}
	s.mu.Lock()
	s.instances[inst.id] = inst
	s.mu.Unlock()
	created = true
	s.trimAfterBurst()
	return struct{}{}, nil
}

// ensureConfigured gives a Configurer its default configuration when the host enables it before
// any config/validateAndSet: Gotify always configures before Enable, and plugins whose Enable
// reads the configuration would crash the process otherwise.
func (s *server) ensureConfigured(inst *instance) *HostError {
	c, ok := inst.plugin.(Configurer)
	if !ok || inst.configured {
		return nil
	}
	if err := c.ValidateAndSetConfig(c.DefaultConfig()); err != nil {
		return rpcError(CodePluginError, "the plugin refused its own default configuration: %v", err)
	}
	inst.configured = true
	return nil
}

func (s *server) enable(inst *instance) (interface{}, *HostError) {
	inst.lifecycle.Lock()
	defer inst.lifecycle.Unlock()
	if inst.enabled {
		return struct{}{}, nil
	}
	if err := s.ensureConfigured(inst); err != nil {
		return nil, err
	}
	if err := inst.plugin.Enable(); err != nil {
		return nil, rpcError(CodePluginError, "%s", err.Error())
	}
	inst.enabled = true
	return struct{}{}, nil
}

func (s *server) disable(inst *instance) (interface{}, *HostError) {
	inst.lifecycle.Lock()
	defer inst.lifecycle.Unlock()
	if !inst.enabled {
		return struct{}{}, nil
	}
	// The host disables the instance whatever the answer; so does the kit.
	inst.enabled = false
	if err := inst.plugin.Disable(); err != nil {
		return nil, rpcError(CodePluginError, "%s", err.Error())
	}
	return struct{}{}, nil
}

func (s *server) destroy(inst *instance) (interface{}, *HostError) {
	s.mu.Lock()
	delete(s.instances, inst.id)
	s.mu.Unlock()
	inst.lifecycle.Lock()
	defer inst.lifecycle.Unlock()
	if inst.enabled {
		inst.enabled = false
		if err := inst.plugin.Disable(); err != nil {
			s.log.write("warn", "Disable failed while the instance was destroyed: "+err.Error(), inst.id, nil)
		}
	}
	return struct{}{}, nil
}

func (s *server) defaultConfig(inst *instance) (interface{}, *HostError) {
	c, ok := inst.plugin.(Configurer)
	if !ok {
		return nil, rpcError(CodeNotSupported, "this instance is not a configurer")
	}
	text, err := yaml.Marshal(c.DefaultConfig())
	if err != nil {
		return nil, rpcError(CodePluginError, "the default configuration cannot be written as YAML: %v", err)
	}
	return map[string]interface{}{"config": string(text), "secretKeys": []string{}}, nil
}

// validateAndSet is Gotify 2.9's config path: c := DefaultConfig(); yaml.v3 Unmarshal of the
// text into c; ValidateAndSetConfig(c). Either failing is InvalidConfig with its message, and
// the instance keeps its previous configuration.
func (s *server) validateAndSet(inst *instance, params json.RawMessage) (interface{}, *HostError) {
	c, ok := inst.plugin.(Configurer)
	if !ok {
		return nil, rpcError(CodeNotSupported, "this instance is not a configurer")
	}
	var p struct {
		Config *string `json:"config"`
	}
	if e := json.Unmarshal(params, &p); e != nil || p.Config == nil {
		return nil, invalidParams("config", "Invalid input: expected string")
	}
	inst.lifecycle.Lock()
	defer inst.lifecycle.Unlock()
	conf := c.DefaultConfig()
	if err := yaml.Unmarshal([]byte(*p.Config), conf); err != nil {
		return nil, rpcError(CodeInvalidConfig, "%s", err.Error())
	}
	if err := c.ValidateAndSetConfig(conf); err != nil {
		return nil, rpcError(CodeInvalidConfig, "%s", err.Error())
	}
	inst.configured = true
	return struct{}{}, nil
}

func (s *server) display(inst *instance, params json.RawMessage) (interface{}, *HostError) {
	d, ok := inst.plugin.(Displayer)
	if !ok {
		return map[string]string{"markdown": ""}, nil
	}
	var p struct {
		Location *struct {
			Scheme          string `json:"scheme"`
			Host            string `json:"host"`
			WebhookBasePath string `json:"webhookBasePath"`
		} `json:"location"`
	}
	if e := json.Unmarshal(params, &p); e != nil || p.Location == nil {
		return nil, invalidParams("location", "Invalid input: expected {scheme, host, webhookBasePath}")
	}
	location := &url.URL{Scheme: p.Location.Scheme, Host: p.Location.Host}
	// The reverse-proxy prefix: what the browser's webhook path has before the instance's own.
	if prefix := strings.TrimSuffix(p.Location.WebhookBasePath, inst.basePath); prefix != p.Location.WebhookBasePath {
		location.Path = strings.TrimSuffix(prefix, "/")
	}
	return map[string]string{"markdown": d.GetDisplay(location)}, nil
}

func (s *server) messageReceived(params json.RawMessage) {
	var p struct {
		InstanceID string `json:"instanceId"`
		Message    struct {
			ID       uint                   `json:"id"`
			AppID    uint                   `json:"appid"`
			Message  string                 `json:"message"`
			Title    string                 `json:"title"`
			Priority int                    `json:"priority"`
			Extras   map[string]interface{} `json:"extras"`
			Date     string                 `json:"date"`
		} `json:"message"`
	}
	if json.Unmarshal(params, &p) != nil {
		s.log.write("warn", "message/received with params that do not decode: ignored", "", nil)
		return
	}
	inst := s.instance(p.InstanceID)
	if inst == nil {
		return
	}
	sub, ok := inst.plugin.(Subscriber)
	if !ok {
		return
	}
	inst.lifecycle.Lock()
	enabled := inst.enabled
	inst.lifecycle.Unlock()
	if !enabled {
		return
	}
	date, _ := time.Parse(time.RFC3339Nano, p.Message.Date)
	msg := ReceivedMessage{ID: p.Message.ID, ApplicationID: p.Message.AppID, Message: p.Message.Message, Title: p.Message.Title, Priority: p.Message.Priority, Extras: p.Message.Extras, Date: date}
	go func() {
		var err *HostError
		defer func() {
			if err != nil {
				s.log.write("error", err.Message, inst.id, nil)
			}
		}()
		defer recoverAsPluginError(s.log, inst.id, "ReceiveMessage", &err)
		sub.ReceiveMessage(msg)
	}()
}

// stop disables every enabled instance (in parallel, bounded: a plugin's Disable may still call
// the host to record its state), then answers; later requests get ShuttingDown.
func (s *server) stop() (interface{}, *HostError) {
	s.mu.RLock()
	all := make([]*instance, 0, len(s.instances))
	for _, inst := range s.instances {
		if inst != nil {
			all = append(all, inst)
		}
	}
	s.mu.RUnlock()
	var wg sync.WaitGroup
	for _, inst := range all {
		wg.Add(1)
		go func(inst *instance) {
			defer wg.Done()
			var err *HostError
			defer recoverAsPluginError(s.log, inst.id, "Disable", &err)
			if _, err = s.disable(inst); err != nil {
				s.log.write("warn", "Disable failed at shutdown: "+err.Message, inst.id, nil)
			}
		}(inst)
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	until := time.Now().Add(1500 * time.Millisecond)
	select {
	case <-done:
	case <-time.After(time.Until(until)):
		s.log.write("warn", "some instances did not finish Disable within 1.5 s of shutdown", "", nil)
	}
	// Requests that arrived before shutdown are answered before it (spec 4.2 step 5), within the
	// same bound; the shutdown request itself is the one left.
	for s.conn.inflight.Load() > 1 && time.Now().Before(until) {
		time.Sleep(5 * time.Millisecond)
	}
	s.shutdown.Store(true)
	return struct{}{}, nil
}
