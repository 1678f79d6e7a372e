package plugin

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// buildCapabilities is set by `flow-plugin build-go` (go build -ldflags -X) to the capabilities
// a probe instance showed when the executable was built, comma-separated. Empty (a plain go
// build): Serve creates a probe instance at start to learn them.
var buildCapabilities string

// probeEnv makes the executable print its capabilities as JSON and exit (flow-plugin build-go).
const probeEnv = "FLOW_GO_PLUGIN_PROBE"

// Serve runs the plugin as a Flow plugin executable and never returns: it speaks Flow's plugin
// protocol on stdin/stdout, creates an instance with newInstance for every user the server
// asks for, and exits when the server says so or goes away. Started by hand (without the
// server's FLOW_PLUGIN_PROTOCOL) it explains what it is and exits 1; `--info` prints its info.
//
// `flow-plugin build-go` calls it for you from a generated file; call it yourself from main()
// (or an init) when you build with go build.
func Serve(info Info, newInstance func(UserContext) Plugin) {
	log := &stderrLog{out: os.Stderr}
	if strings.TrimSpace(info.ModulePath) == "" {
		fail("plugin.Info.ModulePath is empty: set it to the plugin's module path (it identifies the plugin)")
	}
	if newInstance == nil {
		fail("Serve needs the function that creates an instance")
	}
	if os.Getenv(probeEnv) != "" {
		probe := newInstance(UserContext{ID: 0, Name: "flow-plugin build-go probe"})
		if probe == nil {
			fail("the plugin's NewInstance returned nil")
		}
		writeJSONLine(map[string]interface{}{"capabilities": capabilitiesOf(probe)})
		os.Exit(0)
	}
	capabilities := []string{}
	if buildCapabilities != "" {
		capabilities = strings.Split(buildCapabilities, ",")
	} else if hand := runByHand(); !hand || len(os.Args) > 1 {
		// Learn the capabilities from a probe instance, as build-go does at build time. It is
		// never enabled nor given handlers; plugins that keep package-level state about their
		// instances see one more (build with flow-plugin build-go to avoid it).
		if probe := newInstance(UserContext{ID: 0, Name: "flow capability probe"}); probe != nil {
			capabilities = capabilitiesOf(probe)
		}
	}
	if runByHand() {
		args := os.Args[1:]
		if len(args) == 1 && args[0] == "--info" {
			writeJSONLine(map[string]interface{}{"info": infoJSON(info), "capabilities": capabilities, "protocolVersions": []string{protocolVersion}})
			os.Exit(0)
		}
		if !(len(args) == 1 && args[0] == "--stdio") {
			name := info.Name
			if name == "" {
				name = info.ModulePath
			}
			fmt.Fprintf(os.Stderr, "%s %s (%s) is a Flow plugin: the Flow server starts it and talks to it over stdin/stdout.\n"+
				"To install it, copy this executable into the server's plugins folder (setting pluginsdir, default <datadir>/plugins)\n"+
				"and enable it on the server's Plugins page.\n"+
				"  --info   print the plugin's info as JSON\n  --stdio  speak the protocol on stdin/stdout anyway\n", name, info.Version, info.ModulePath)
			os.Exit(1)
		}
	}
	c := newConn(os.Stdin, protocolOut, log)
	s := newServer(info, newInstance, capabilities, c, log)
	c.serve()
	// stdin ended: the server is gone or closed the stream after exit.
	s.exit()
}

func runByHand() bool { return os.Getenv("FLOW_PLUGIN_PROTOCOL") == "" }

func infoJSON(info Info) map[string]string {
	out := map[string]string{"modulePath": info.ModulePath}
	for key, value := range map[string]string{"name": info.Name, "version": info.Version, "author": info.Author, "website": info.Website, "license": info.License, "description": info.Description} {
		if value != "" {
			out[key] = value
		}
	}
	return out
}

func writeJSONLine(v interface{}) {
	b, _ := json.Marshal(v)
	_, _ = protocolOut.Write(append(b, '\n'))
}

func fail(message string) {
	fmt.Fprintln(os.Stderr, message)
	os.Exit(1)
}

// ServeSymbols checks the exported functions of a plugin package the way Gotify's loader does
// (plugin/compat/wrap.go), with Gotify's messages, then serves it. getInfo and newInstance are
// the package's GetGotifyPluginInfo / NewGotifyPluginInstance (or GetFlowPluginInfo /
// NewFlowPluginInstance), as interface{} values so a wrong signature is reported, not a compile
// error. The file `flow-plugin build-go` generates calls it.
func ServeSymbols(infoSymbol string, getInfo interface{}, instanceSymbol string, newInstance interface{}) {
	if getInfo == nil {
		fail(fmt.Sprintf("missing %s symbol", infoSymbol))
	}
	infoFunc, ok := getInfo.(func() Info)
	if !ok {
		fail(fmt.Sprintf("unknown plugin version (unrecogninzed %s signature %T)", infoSymbol, getInfo))
	}
	if newInstance == nil {
		fail(fmt.Sprintf("missing %s symbol", instanceSymbol))
	}
	instanceFunc, ok := newInstance.(func(UserContext) Plugin)
	if !ok {
		fail(fmt.Sprintf("%s signature mismatch, func(ctx plugin.UserContext) plugin.Plugin expected, got %T", instanceSymbol, newInstance))
	}
	Serve(infoFunc(), instanceFunc)
}
