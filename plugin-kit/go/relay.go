package plugin

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"
)

// webhookRelay serves webhook/request through one real gin engine for the whole process. Each
// webhooker instance gets a group at its base path (Gotify mounts the same group at
// /plugin/:id/custom/<token>/), so routes, params, middleware, binding and every gin.Context
// method behave as in Gotify. A request is routed under the instance's own base path only: one
// instance cannot reach another's routes.
type webhookRelay struct {
	engine *gin.Engine
	// routes guards gin's route trees, which are not safe to change while a request is routed.
	// Requests hold the read side only while gin routes them (releaseRouteLock, the first
	// handler of every instance group, lets go), so a handler that blocks forever never holds
	// up an instance created later.
	routes sync.RWMutex
}

type routeLockKey struct{}

type routeLock struct {
	once sync.Once
	mu   *sync.RWMutex
}

func (l *routeLock) release() { l.once.Do(l.mu.RUnlock) }

func newWebhookRelay() *webhookRelay {
	engine := gin.New()
	// Gotify's answer for an unknown path under a plugin's base path.
	engine.NoRoute(func(c *gin.Context) {
		c.JSON(http.StatusNotFound, gotifyError(http.StatusNotFound, "page not found"))
	})
	return &webhookRelay{engine: engine}
}

// gotifyErrorBody is Gotify's error JSON.
type gotifyErrorBody struct {
	Error            string `json:"error"`
	ErrorCode        int    `json:"errorCode"`
	ErrorDescription string `json:"errorDescription"`
}

func gotifyError(status int, description string) gotifyErrorBody {
	return gotifyErrorBody{Error: http.StatusText(status), ErrorCode: status, ErrorDescription: description}
}

// gotifyErrors is Gotify's error middleware (api/error.go in gotify/server): errors a handler
// adds with c.Error / c.AbortWithError become Gotify's JSON error body, with the status already
// set (400 when the handler set none).
func gotifyErrors(c *gin.Context) {
	c.Next()
	if len(c.Errors) == 0 {
		return
	}
	status := http.StatusBadRequest
	if c.Writer.Status() != http.StatusOK {
		status = c.Writer.Status()
	}
	c.JSON(status, gotifyError(status, c.Errors.Last().Error()))
}

func releaseRouteLock(c *gin.Context) {
	if l, ok := c.Request.Context().Value(routeLockKey{}).(*routeLock); ok {
		l.release()
	}
	c.Next()
}

func (r *webhookRelay) register(inst *instance, w Webhooker) {
	r.routes.Lock()
	defer r.routes.Unlock()
	group := r.engine.Group(inst.basePath, releaseRouteLock, gotifyErrors)
	w.RegisterWebhook(inst.basePath, group)
}

type webhookParams struct {
	Method        string            `json:"method"`
	Path          string            `json:"path"`
	Query         string            `json:"query"`
	Headers       map[string]string `json:"headers"`
	Body          string            `json:"body"`
	RemoteAddress string            `json:"remoteAddress"`
}

func (r *webhookRelay) serve(ctx context.Context, s *server, inst *instance, raw json.RawMessage) (result interface{}, err *HostError) {
	var p webhookParams
	if e := json.Unmarshal(raw, &p); e != nil {
		return nil, invalidParams("method", e.Error())
	}
	if p.Method == "" || !strings.HasPrefix(p.Path, "/") {
		return nil, invalidParams("path", "Invalid input: expected a method and a path starting with /")
	}
	body, e := base64.StdEncoding.DecodeString(p.Body)
	if e != nil {
		return nil, invalidParams("body", "Invalid input: expected base64")
	}
	target := inst.basePath + strings.TrimPrefix(p.Path, "/")
	if p.Query != "" {
		target += "?" + p.Query
	}
	lock := &routeLock{mu: &r.routes}
	req, e := http.NewRequestWithContext(context.WithValue(ctx, routeLockKey{}, lock), p.Method, target, bytes.NewReader(body))
	if e != nil {
		return webhookReply(http.StatusBadRequest, http.Header{"Content-Type": {"application/json"}}, mustJSON(gotifyError(http.StatusBadRequest, "bad request path: "+e.Error()))), nil
	}
	req.RequestURI = target
	req.ContentLength = int64(len(body))
	for name, value := range p.Headers {
		req.Header.Add(name, value)
	}
	req.Host = p.Headers["host"]
	req.RemoteAddr = remoteAddr(p.RemoteAddress)

	w := newRecorder(ctx)
	defer func() {
		lock.release()
		if rec := recover(); rec != nil {
			s.log.write("error", fmt.Sprintf("a webhook handler panicked: %v", rec), inst.id, map[string]interface{}{"stack": string(debug.Stack()), "method": p.Method, "path": p.Path})
			result, err = nil, rpcError(CodePluginError, "the plugin's webhook handler failed (panic: %v)", rec)
		}
	}()
	r.routes.RLock()
	r.engine.ServeHTTP(w, req)
	return w.reply(), nil
}

// remoteAddr makes the host's address a host:port pair: gin's ClientIP parses RemoteAddr with
// net.SplitHostPort and gives "" without a port.
func remoteAddr(address string) string {
	if address == "" {
		return ""
	}
	if _, _, err := net.SplitHostPort(address); err == nil {
		return address
	}
	return net.JoinHostPort(strings.TrimSuffix(strings.TrimPrefix(address, "["), "]"), "0")
}

func mustJSON(v interface{}) []byte {
	b, _ := json.Marshal(v)
	return b
}

func webhookReply(status int, header http.Header, body []byte) map[string]interface{} {
	headers := map[string]interface{}{}
	for name, values := range header {
		lower := strings.ToLower(name)
		if lower == "content-length" || len(values) == 0 {
			continue
		}
		if len(values) == 1 {
			headers[lower] = values[0]
		} else {
			headers[lower] = values
		}
	}
	reply := map[string]interface{}{"status": status, "headers": headers}
	if len(body) > 0 {
		reply["body"] = base64.StdEncoding.EncodeToString(body)
	}
	return reply
}

// recorder is the http.ResponseWriter gin writes to: like net/http's, the headers are fixed when
// the status is written (so AbortWithError followed by a JSON body behaves as in Gotify).
type recorder struct {
	ctx         context.Context
	header      http.Header
	sentHeader  http.Header
	status      int
	wroteHeader bool
	body        bytes.Buffer
}

func newRecorder(ctx context.Context) *recorder {
	return &recorder{ctx: ctx, header: http.Header{}}
}

func (w *recorder) Header() http.Header { return w.header }

func (w *recorder) WriteHeader(status int) {
	if w.wroteHeader {
		return
	}
	w.wroteHeader = true
	w.status = status
	w.sentHeader = w.header.Clone()
}

func (w *recorder) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.body.Write(b)
}

func (w *recorder) WriteString(s string) (int, error) { return w.Write([]byte(s)) }

// Flush: the whole answer goes back at once; streaming handlers (c.Stream, SSE) still work.
func (w *recorder) Flush() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
}

// CloseNotify is closed when the host cancels the request (its HTTP client went away).
func (w *recorder) CloseNotify() <-chan bool {
	ch := make(chan bool, 1)
	go func() {
		<-w.ctx.Done()
		ch <- true
	}()
	return ch
}

func (w *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return nil, nil, errors.New("webhooks relayed by Flow cannot hijack the connection")
}

func (w *recorder) reply() map[string]interface{} {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	// As net/http: a body without a Content-Type gets a sniffed one.
	if w.body.Len() > 0 && w.sentHeader.Get("Content-Type") == "" && w.status != http.StatusNoContent && w.status != http.StatusNotModified {
		w.sentHeader.Set("Content-Type", http.DetectContentType(w.body.Bytes()))
	}
	return webhookReply(w.status, w.sentHeader, w.body.Bytes())
}
