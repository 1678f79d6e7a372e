// echo-go: the Go twin of plugins/echo, written the way Gotify plugins are (Gotify's own
// example/echo is its model): it imports github.com/gotify/plugin-api and nothing of Flow's, so
// the same file builds as a Gotify plugin (go build -buildmode=plugin) and, unchanged, as a Flow
// plugin (flow-plugin build-go). It implements all five of Gotify's optional interfaces:
//
//   - Configurer: `magic_string` (yaml-tagged struct, default "hello world", must not be empty);
//   - Webhooker:  gin routes under the instance's base path:
//       GET  echo      counts the call in storage, sends "Hello received", answers the magic string;
//       POST message   JSON in ({"message", "title", "priority"}), sends it, JSON out (201), 400 on bad JSON;
//       POST raw       answers the request body's bytes unchanged, with its content type;
//   - Storager:   the call counter, as JSON in the instance's storage blob (survives restarts);
//   - Messenger:  the messages above, as the user's "echo (Go)" application;
//   - Displayer:  the absolute URL of the echo route and the counter.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"
	"github.com/gotify/plugin-api"
)

// GetGotifyPluginInfo returns the plugin's info; ModulePath identifies it.
func GetGotifyPluginInfo() plugin.Info {
	return plugin.Info{
		Name:        "echo (Go)",
		Version:     "1.0.0",
		Author:      "Flow",
		License:     "MIT",
		Description: "Gotify's echo example as a Flow plugin: every Gotify capability, gin routes, yaml config.",
		ModulePath:  "github.com/flow/plugins/echo-go",
	}
}

// Config is the user's configuration, edited as YAML in the web UI.
type Config struct {
	MagicString string `yaml:"magic_string"`
}

// Storage is what the instance keeps in its storage blob, as JSON.
type Storage struct {
	CalledTimes int `json:"calledTimes"`
}

// EchoPlugin is one user's instance.
type EchoPlugin struct {
	user           plugin.UserContext
	msgHandler     plugin.MessageHandler
	storageHandler plugin.StorageHandler
	basePath       string

	mu     sync.Mutex // guards config and the read-modify-write of the counter
	config *Config
}

// SetMessageHandler implements plugin.Messenger; called before Enable.
func (c *EchoPlugin) SetMessageHandler(h plugin.MessageHandler) { c.msgHandler = h }

// SetStorageHandler implements plugin.Storager; called before Enable.
func (c *EchoPlugin) SetStorageHandler(h plugin.StorageHandler) { c.storageHandler = h }

// DefaultConfig implements plugin.Configurer: a pointer, so the YAML decodes into it.
func (c *EchoPlugin) DefaultConfig() interface{} {
	return &Config{MagicString: "hello world"}
}

// ValidateAndSetConfig implements plugin.Configurer. Its error is shown to the user.
func (c *EchoPlugin) ValidateAndSetConfig(config interface{}) error {
	conf := config.(*Config)
	if strings.TrimSpace(conf.MagicString) == "" {
		return errors.New("magic_string must not be empty")
	}
	c.mu.Lock()
	c.config = conf
	c.mu.Unlock()
	return nil
}

// Enable implements plugin.Plugin.
func (c *EchoPlugin) Enable() error {
	log.Printf("echo plugin enabled for %s", c.user.Name)
	return nil
}

// Disable implements plugin.Plugin.
func (c *EchoPlugin) Disable() error {
	log.Printf("echo plugin disabled for %s", c.user.Name)
	return nil
}

func (c *EchoPlugin) magicString() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.config == nil {
		return "hello world"
	}
	return c.config.MagicString
}

// countCall adds one to the counter in storage and returns the new value.
func (c *EchoPlugin) countCall() (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	stored, err := c.storageHandler.Load()
	if err != nil {
		return 0, err
	}
	s := new(Storage)
	if len(stored) > 0 {
		if err := json.Unmarshal(stored, s); err != nil {
			return 0, err
		}
	}
	s.CalledTimes++
	updated, _ := json.Marshal(s)
	return s.CalledTimes, c.storageHandler.Save(updated)
}

func (c *EchoPlugin) calledTimes() int {
	stored, err := c.storageHandler.Load()
	s := new(Storage)
	if err == nil && len(stored) > 0 {
		_ = json.Unmarshal(stored, s)
	}
	return s.CalledTimes
}

// incomingMessage is the JSON body of POST message.
type incomingMessage struct {
	Message  string `json:"message" binding:"required"`
	Title    string `json:"title"`
	Priority int    `json:"priority"`
}

// RegisterWebhook implements plugin.Webhooker: called once per instance with its group.
func (c *EchoPlugin) RegisterWebhook(basePath string, g *gin.RouterGroup) {
	c.basePath = basePath
	g.GET("/echo", func(ctx *gin.Context) {
		n, err := c.countCall()
		if err != nil {
			ctx.AbortWithError(http.StatusInternalServerError, err)
			return
		}
		err = c.msgHandler.SendMessage(plugin.Message{
			Title:    "Hello received",
			Message:  fmt.Sprintf("echo server received a hello message %d times", n),
			Priority: 2,
			Extras:   map[string]interface{}{"plugin::name": "echo"},
		})
		if err != nil {
			ctx.AbortWithError(http.StatusBadGateway, err)
			return
		}
		ctx.String(http.StatusOK, c.magicString())
	})
	g.POST("/message", func(ctx *gin.Context) {
		var in incomingMessage
		if err := ctx.ShouldBindJSON(&in); err != nil {
			// Gotify's error middleware turns this into {"error","errorCode","errorDescription"}.
			ctx.AbortWithError(http.StatusBadRequest, err)
			return
		}
		if err := c.msgHandler.SendMessage(plugin.Message{Title: in.Title, Message: in.Message, Priority: in.Priority}); err != nil {
			ctx.AbortWithError(http.StatusBadGateway, err)
			return
		}
		ctx.JSON(http.StatusCreated, gin.H{"sent": in, "user": c.user.Name, "magic": c.magicString()})
	})
	g.POST("/raw", func(ctx *gin.Context) {
		body, err := ctx.GetRawData()
		if err != nil {
			ctx.AbortWithError(http.StatusBadRequest, err)
			return
		}
		contentType := ctx.GetHeader("Content-Type")
		if contentType == "" {
			contentType = "application/octet-stream"
		}
		ctx.Header("X-Body-Bytes", fmt.Sprint(len(body)))
		ctx.Data(http.StatusOK, contentType, body)
	})
}

// GetDisplay implements plugin.Displayer. location is the server's URL as the browser sees it
// (on Flow its Path carries a reverse-proxy prefix, "" without one, as on Gotify).
func (c *EchoPlugin) GetDisplay(location *url.URL) string {
	loc := &url.URL{Path: c.basePath}
	if location != nil {
		loc.Scheme = location.Scheme
		loc.Host = location.Host
		loc.Path = strings.TrimSuffix(location.Path, "/") + c.basePath
	}
	loc = loc.ResolveReference(&url.URL{Path: "echo"})
	return fmt.Sprintf("Echo server running at: [%s](%s)\n\nCalled %d times so far.", loc, loc, c.calledTimes())
}

// NewGotifyPluginInstance creates the instance of one user.
func NewGotifyPluginInstance(ctx plugin.UserContext) plugin.Plugin {
	return &EchoPlugin{user: ctx}
}

func main() {
	panic("this should be built as go plugin")
}
