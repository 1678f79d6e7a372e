package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// conn is the JSON-RPC 2.0 peer over the framed streams: requests from the host are dispatched
// each in its own goroutine (the reader never waits for a handler, spec section 8), responses
// are matched to the plugin's own pending calls, and every frame goes out in one write.

type incoming struct {
	JSONRPC *string         `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Method  json.RawMessage `json:"method"`
	Params  json.RawMessage `json:"params"`
	Result  json.RawMessage `json:"result"`
	Error   *HostError      `json:"error"`
}

type outRequest struct {
	JSONRPC string      `json:"jsonrpc"`
	ID      int64       `json:"id"`
	Method  string      `json:"method"`
	Params  interface{} `json:"params"`
}

type outNotification struct {
	JSONRPC string      `json:"jsonrpc"`
	Method  string      `json:"method"`
	Params  interface{} `json:"params"`
}

type outResult struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  interface{}     `json:"result"`
}

type outError struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Error   *HostError      `json:"error"`
}

var nullID = json.RawMessage("null")

// requestHandler answers one request: a result, or an error.
type requestHandler func(ctx context.Context, method string, params json.RawMessage) (interface{}, *HostError)

type callResult struct {
	result json.RawMessage
	err    *HostError
}

type conn struct {
	frames   *frameReader
	out      io.Writer
	writeMu  sync.Mutex
	maxFrame atomic.Int64
	log      *stderrLog

	onRequest      requestHandler
	onNotification func(method string, params json.RawMessage)

	nextID  atomic.Int64
	mu      sync.Mutex
	pending map[int64]chan callResult
	// running: the host's requests in progress, by id text, to cancel them.
	running map[string]*runningRequest
	closed  bool
	// inflight counts the host's requests not answered yet (shutdown waits for them).
	inflight atomic.Int64
}

type runningRequest struct {
	cancel   context.CancelFunc
	answered atomic.Bool
}

func newConn(in io.Reader, out io.Writer, log *stderrLog) *conn {
	c := &conn{frames: newFrameReader(in), out: out, log: log, pending: map[int64]chan callResult{}, running: map[string]*runningRequest{}}
	c.maxFrame.Store(defaultMaxFrameBytes)
	return c
}

func (c *conn) write(message interface{}) {
	body, err := json.Marshal(message)
	if err != nil {
		c.log.write("error", "could not encode a message: "+err.Error(), "", nil)
		return
	}
	if int64(len(body)) > c.maxFrame.Load() {
		// Never send what the host must skip: answer with an error instead (spec 2.3).
		if r, ok := message.(outResult); ok {
			body, _ = json.Marshal(outError{JSONRPC: "2.0", ID: r.ID, Error: rpcError(CodePluginError, "the plugin's answer is %d bytes, over the %d bytes a frame may carry", len(body), c.maxFrame.Load())})
		} else {
			c.log.write("error", fmt.Sprintf("a message of %d bytes is over the frame limit; not sent", len(body)), "", nil)
			return
		}
	}
	frame := encodeFrame(body)
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if _, err := c.out.Write(frame); err != nil {
		c.log.write("debug", "stdout write failed: "+err.Error(), "", nil)
	}
}

func (c *conn) respond(id json.RawMessage, result interface{}, err *HostError) {
	if err != nil {
		c.write(outError{JSONRPC: "2.0", ID: id, Error: err})
		return
	}
	if result == nil {
		result = struct{}{}
	}
	c.write(outResult{JSONRPC: "2.0", ID: id, Result: result})
}

func (c *conn) notify(method string, params interface{}) {
	c.write(outNotification{JSONRPC: "2.0", Method: method, Params: params})
}

// call sends a request to the host and waits for its answer, up to timeout; on timeout it
// cancels the request (spec section 9).
func (c *conn) call(method string, params interface{}, timeout time.Duration) (json.RawMessage, *HostError) {
	id := c.nextID.Add(1)
	ch := make(chan callResult, 1)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, rpcError(CodeTransportClosed, "the connection to the server is closed")
	}
	c.pending[id] = ch
	c.mu.Unlock()
	c.write(outRequest{JSONRPC: "2.0", ID: id, Method: method, Params: params})
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case r := <-ch:
		return r.result, r.err
	case <-timer.C:
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
		c.notify("$/cancelRequest", map[string]int64{"id": id})
		return nil, &HostError{Code: CodeTimeout, Message: fmt.Sprintf("the server did not answer %s within %d ms", method, timeout.Milliseconds()), Data: map[string]int64{"timeoutMs": timeout.Milliseconds()}}
	}
}

// serve reads frames until the stream ends; it returns then.
func (c *conn) serve() {
	for {
		ev, err := c.frames.next(int(c.maxFrame.Load()))
		if err != nil {
			if err != io.EOF {
				c.log.write("warn", "stdin ended inside a frame", "", nil)
			}
			c.closeAll()
			return
		}
		switch {
		case ev.logged != "":
			c.log.write("error", ev.logged, "", nil)
		case ev.badCharset:
			c.respond(nullID, nil, rpcError(CodeParseError, "frame body charset is not UTF-8; it was skipped"))
		case ev.tooLarge:
			limit := c.maxFrame.Load()
			if id := requestIDOf(ev.head); id != nil {
				e := rpcError(CodeFrameTooLarge, "Frame of %d bytes is over the limit of %d bytes; it was skipped", ev.frameBytes, limit)
				e.Data = map[string]int64{"limitBytes": limit, "frameBytes": int64(ev.frameBytes)}
				c.respond(json.RawMessage(id), nil, e)
			} else {
				c.log.write("error", fmt.Sprintf("skipped a frame of %d bytes, over the limit of %d bytes", ev.frameBytes, limit), "", nil)
			}
		default:
			c.dispatch(ev.body)
		}
	}
}

func (c *conn) dispatch(body []byte) {
	trimmed := bytes.TrimSpace(body)
	if !json.Valid(trimmed) {
		c.respond(nullID, nil, rpcError(CodeParseError, "Frame body is not valid JSON"))
		c.frames.resumeAt(body)
		return
	}
	if len(trimmed) == 0 || trimmed[0] != '{' {
		c.respond(nullID, nil, rpcError(CodeInvalidRequest, "a message must be a JSON object (batches are not supported)"))
		return
	}
	var m incoming
	if err := json.Unmarshal(trimmed, &m); err != nil {
		c.respond(nullID, nil, rpcError(CodeInvalidRequest, "not a JSON-RPC 2.0 message: %v", err))
		return
	}
	id := validID(m.ID)
	if m.JSONRPC == nil || *m.JSONRPC != "2.0" {
		c.respond(orNull(id), nil, rpcError(CodeInvalidRequest, `not a JSON-RPC 2.0 message: "jsonrpc" must be "2.0"`))
		return
	}
	if m.Method == nil {
		if id != nil && (m.Result != nil || m.Error != nil) {
			c.settle(id, m.Result, m.Error)
			return
		}
		c.respond(orNull(id), nil, rpcError(CodeInvalidRequest, "not a JSON-RPC 2.0 message: no method, result or error"))
		return
	}
	var method string
	if err := json.Unmarshal(m.Method, &method); err != nil {
		c.respond(orNull(id), nil, rpcError(CodeInvalidRequest, `not a JSON-RPC 2.0 message: "method" must be a string`))
		return
	}
	params := m.Params
	if len(params) == 0 || string(params) == "null" {
		params = json.RawMessage("{}")
	}
	if m.ID == nil {
		if method == "$/cancelRequest" {
			c.cancel(params)
			return
		}
		c.onNotification(method, params)
		return
	}
	if id == nil {
		c.respond(nullID, nil, rpcError(CodeInvalidRequest, "a request id must be a number or a string"))
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	run := &runningRequest{cancel: cancel}
	key := string(id)
	c.mu.Lock()
	c.running[key] = run
	c.mu.Unlock()
	c.inflight.Add(1)
	go func() {
		defer c.inflight.Add(-1)
		result, err := c.onRequest(ctx, method, params)
		c.mu.Lock()
		if c.running[key] == run {
			delete(c.running, key)
		}
		c.mu.Unlock()
		cancel()
		if run.answered.CompareAndSwap(false, true) {
			c.respond(id, result, err)
		}
	}()
}

// cancel answers a running request with RequestCancelled at once and cancels its context; the
// handler's own answer, if it ever comes, is dropped. Unknown ids are ignored.
func (c *conn) cancel(params json.RawMessage) {
	var p struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(params, &p) != nil || validID(p.ID) == nil {
		return
	}
	key := string(normalizeID(p.ID))
	c.mu.Lock()
	run := c.running[key]
	delete(c.running, key)
	c.mu.Unlock()
	if run == nil {
		return
	}
	run.cancel()
	if run.answered.CompareAndSwap(false, true) {
		c.respond(json.RawMessage(key), nil, rpcError(CodeRequestCancelled, "Request cancelled"))
	}
}

func (c *conn) settle(id json.RawMessage, result json.RawMessage, err *HostError) {
	n, convErr := strconv.ParseInt(string(id), 10, 64)
	if convErr != nil {
		return // not one of ours: our ids are integers
	}
	c.mu.Lock()
	ch := c.pending[n]
	delete(c.pending, n)
	c.mu.Unlock()
	if ch != nil {
		ch <- callResult{result: result, err: err}
	}
}

// closeAll fails the plugin's pending calls: the host is gone.
func (c *conn) closeAll() {
	c.mu.Lock()
	c.closed = true
	pending := c.pending
	c.pending = map[int64]chan callResult{}
	for _, run := range c.running {
		run.cancel()
	}
	c.mu.Unlock()
	for _, ch := range pending {
		ch <- callResult{err: rpcError(CodeTransportClosed, "the connection to the server closed")}
	}
}

// validID returns the id in canonical form when it is a number or a string, else nil.
func validID(raw json.RawMessage) json.RawMessage {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil
	}
	switch raw[0] {
	case '"':
		return normalizeID(raw)
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return normalizeID(raw)
	}
	return nil
}

// normalizeID re-encodes an id so that equal ids have equal text (1.0 and 1, "\u0061" and "a").
func normalizeID(raw json.RawMessage) json.RawMessage {
	var v interface{}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if d.Decode(&v) != nil {
		return raw
	}
	switch t := v.(type) {
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return json.RawMessage(strconv.FormatInt(i, 10))
		}
		return json.RawMessage(t.String())
	case string:
		b, _ := json.Marshal(t)
		return b
	}
	return raw
}

func orNull(id json.RawMessage) json.RawMessage {
	if id == nil {
		return nullID
	}
	return id
}
