"""The entry point of a plugin executable: `run_plugin(plugin)`."""

import json
import os
import signal
import sys
import threading

from .log import route_logging_to_stderr, write_log_line
from .plugin import PROTOCOL_VERSIONS
from .serve import Session

LAUNCH_ENV = "FLOW_PLUGIN_PROTOCOL"


def _describe(plugin):
    info = plugin.info
    version = " " + info["version"] if info.get("version") else ""
    return "%s%s (%s)" % (info["name"], version, info["modulePath"]) if info.get("name") else info["modulePath"] + version


def banner(plugin, self_name):
    info = plugin.info
    lines = ["%s: a Flow plugin." % _describe(plugin)]
    if info.get("description"):
        lines.append(info["description"])
    lines += [
        "",
        "It is started by the Flow server, which talks to it over stdin/stdout; running it by hand does nothing.",
        'To install it: copy this file into the server\'s plugins folder (config "pluginsdir", default <datadir>/plugins),',
        "make it executable, restart the server, then enable it for your user on the Plugins page.",
        "",
        "Capabilities: %s" % (", ".join(plugin.capabilities) or "none (enable/disable only)"),
        'Run "%s --info" for its info as JSON, "%s --help" for all options.' % (self_name, self_name),
        "",
    ]
    return "\n".join(lines)


def usage(plugin, self_name):
    return "\n".join(
        [
            "%s: a Flow plugin." % _describe(plugin),
            "",
            "Usage: %s [--info | --help | --stdio]" % self_name,
            "  --info    print its info, capabilities and protocol versions as one line of JSON",
            "  --help    print this help",
            "  --stdio   serve the protocol on stdin/stdout even without %s (for debugging by hand)" % LAUNCH_ENV,
            "",
            "The Flow server sets %s when it starts a plugin from its plugins folder." % LAUNCH_ENV,
            "",
        ]
    )


def take_protocol_fds():
    """Keeps stdin/stdout for the protocol only: returns private copies of fds 0 and 1, then points fd 0
    at /dev/null and fd 1 at stderr, so print(), a library's writes and child processes can neither
    corrupt a frame nor steal input bytes (the most reported failure of subprocess plugins)."""
    protocol_in = os.dup(0)
    protocol_out = os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return protocol_in, protocol_out


def _watch_parent(parent):
    """A host killed with SIGKILL may leave stdin open through an inheriting grandchild: re-parenting is the sure sign."""
    while True:
        threading.Event().wait(2.0)
        if os.getppid() != parent:
            write_log_line("error", "the host process is gone; exiting")
            os._exit(1)


def run_plugin(plugin, argv=None, env=None):
    """Runs `plugin` as the process's protocol session and exits with the spec's exit code:
    `--help`/`--info` print and exit 0; started by hand (no FLOW_PLUGIN_PROTOCOL, or stdin a terminal)
    it explains itself and exits 1 (`--stdio` serves anyway); otherwise it serves stdin/stdout until
    `exit`, EOF or the host's death: 0 after `shutdown`, 1 otherwise."""
    argv = sys.argv[1:] if argv is None else list(argv)
    env = os.environ if env is None else env
    self_name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "plugin"
    unknown = [arg for arg in argv if arg not in ("--help", "-h", "--info", "--stdio")]
    if unknown:
        sys.stderr.write("%s: unknown option %s\n\n%s" % (self_name, unknown[0], usage(plugin, self_name)))
        sys.exit(2)
    if "--help" in argv or "-h" in argv:
        sys.stdout.write(usage(plugin, self_name))
        sys.exit(0)
    if "--info" in argv:
        sys.stdout.write(json.dumps({"info": plugin.info, "capabilities": plugin.capabilities, "protocolVersions": PROTOCOL_VERSIONS}) + "\n")
        sys.exit(0)
    if "--stdio" not in argv and (LAUNCH_ENV not in env or os.isatty(0)):
        sys.stderr.write(banner(plugin, self_name))
        sys.exit(1)

    parent = os.getppid()
    protocol_in, protocol_out = take_protocol_fds()
    route_logging_to_stderr()
    if LAUNCH_ENV in env:
        # Ctrl-C in the server's terminal reaches the whole process group: the server stops plugins itself.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent,), name="flow-watchdog", daemon=True).start()

    def unhandled(args):
        write_log_line("error", "uncaught exception in thread %s (still serving): %s" % (args.thread.name if args.thread else "?", args.exc_value))

    threading.excepthook = unhandled
    code = Session(plugin, protocol_in, protocol_out).run()
    try:
        sys.stderr.flush()
    finally:
        # Worker threads may still wait on the network: the process ends now, as the spec wants.
        os._exit(code)
