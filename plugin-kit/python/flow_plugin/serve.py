"""The plugin side of the protocol: handshake, instances, dispatch to handlers, shutdown (spec section 4).

Threads, not asyncio: the standard library's network clients (urllib, http.client, smtplib, socket) block,
so plugin code is plain blocking code, and each request runs on a worker thread of a pool. The reader
(peer.py) only decodes and dispatches: `ping`, `initialize`, `plugin/info` and `instance/create` are
answered on it at once; everything that runs plugin code goes to the pool. A handler waiting for a host
call (`ctx.kv.get`) holds one worker, never the reader.
"""

import dataclasses
import os
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor

from . import config as config_module
from .context import Context
from .errors import ConfigError, ErrorCodes, RpcError
from .log import Logger, write_log_line
from .params import MESSAGE_RECEIVED, REQUESTS, issues_of, require_valid
from .peer import Peer
from .plugin import PROTOCOL_VERSIONS
from .webhook import WebhookRequest, encode_reply

# shutdown's whole budget (disabling instances, then letting handlers settle): under the Flow server's
# 2 s stop step and the protocol's 5 s shutdown deadline.
SHUTDOWN_GRACE_SECONDS = 1.5
DEFAULT_WORKERS = 32


def parse_version(text):
    parts = text.split(".") if isinstance(text, str) else []
    if len(parts) != 2 or not all(part.isdigit() and len(part) <= 6 and (part == "0" or not part.startswith("0")) for part in parts):
        return None
    return int(parts[0]), int(parts[1])


def negotiate(offered, supported=PROTOCOL_VERSIONS):
    """The highest common version (spec section 4.3), or None."""
    best = None
    for theirs in map(parse_version, offered):
        if theirs is None:
            continue
        for ours in map(parse_version, supported):
            if ours is None or ours[0] != theirs[0]:
                continue
            common = (ours[0], min(ours[1], theirs[1]))
            if best is None or common > best:
                best = common
    return None if best is None else "%d.%d" % best


class Call:
    """The last argument of a handler that asks for it: the request's cancellation.

    `cancelled` is True once the host cancelled the request (`$/cancelRequest`), the instance was
    destroyed or the plugin is stopping; `check()` raises Cancelled then; `wait(seconds)` sleeps, waking
    early (returning True) on cancellation: use it for backoff and polling.
    """

    __slots__ = ("_event", "_instance")

    def __init__(self, event, instance_stopped):
        self._event = event
        self._instance = instance_stopped

    @property
    def cancelled(self):
        return self._event.is_set() or self._instance.is_set()

    def check(self):
        from .errors import Cancelled

        if self.cancelled:
            raise Cancelled("the request was cancelled")

    def wait(self, seconds):
        deadline = time.monotonic() + seconds
        while not self.cancelled:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._event.wait(min(left, 0.1))
        return True


class DisplayLocation:
    """Where the user looks from: `scheme`, `host`, `webhook_base_path`, and `webhook_url` (absolute, ends in /)."""

    __slots__ = ("scheme", "host", "webhook_base_path", "webhook_url")

    def __init__(self, location):
        self.scheme = location["scheme"]
        self.host = location["host"]
        self.webhook_base_path = location["webhookBasePath"]
        self.webhook_url = "%s://%s%s" % (self.scheme, self.host, self.webhook_base_path)


@dataclasses.dataclass(frozen=True)
class Message:
    """A message of the instance's user (message/received), as in Gotify's message API."""

    id: int
    appid: int
    message: str
    title: str
    priority: int
    date: str
    extras: dict = dataclasses.field(default_factory=dict)


class _Record:
    __slots__ = ("id", "instance", "ctx", "enabled", "lock", "messages", "draining")

    def __init__(self, instance_id, instance, ctx):
        self.id = instance_id
        self.instance = instance
        self.ctx = ctx
        self.enabled = False
        # Lifecycle calls of one instance run one at a time (spec section 4.1).
        self.lock = threading.Lock()
        self.messages = []
        self.draining = False


class Session:
    """One protocol session on a pair of file descriptors. `run()` serves until the end; returns the exit code."""

    def __init__(self, plugin, input_fd, output_fd, workers=None):
        self.plugin = plugin
        self.capabilities = set(plugin.capabilities)
        self.state = "new"
        self.version = None
        self.shutdown_received = False
        self.instances = {}
        self.pool = ThreadPoolExecutor(max_workers=workers or DEFAULT_WORKERS, thread_name_prefix="flow-handler")
        self._busy = 0
        self._busy_lock = threading.Condition()
        self._exit_code = None
        self._default_text_cache = (None, None)
        self.kit_log = Logger(lambda level, message, fields, instance_id: write_log_line(level, message, fields, instance_id))
        self.peer = Peer(input_fd, output_fd, self._on_request, self._on_notification, self._on_problem)

    # -- plumbing -----------------------------------------------------------------------------

    def run(self):
        self.peer.run()
        if self._exit_code is None:
            self._exit_code = 0 if self.shutdown_received else 1
        self._stop_instances()
        self.peer.flush()
        return self._exit_code

    def speaks(self, version):
        have = parse_version(self.version) if self.version else None
        need = parse_version(version)
        return have is not None and need is not None and have[0] == need[0] and have[1] >= need[1]

    def log(self, level, message, fields=None, instance_id=None):
        """Author logs: log/write once initialized, stderr before and after."""
        if self.state in ("ready", "shuttingDown") and not self.peer.closed:
            params = {"level": level, "message": message}
            if instance_id is not None:
                params["instanceId"] = instance_id
            if fields:
                params["fields"] = _jsonable(fields)
            self.peer.notify("log/write", params)
        else:
            write_log_line(level, message, fields, instance_id)

    def _on_problem(self, kind, message):
        write_log_line("warn", "bad input from the host: %s" % message, {"kind": kind})

    def _submit(self, work):
        with self._busy_lock:
            self._busy += 1

        def run():
            try:
                work()
            finally:
                with self._busy_lock:
                    self._busy -= 1
                    self._busy_lock.notify_all()

        try:
            self.pool.submit(run)
        except RuntimeError:  # the pool is shut down: the process is exiting
            with self._busy_lock:
                self._busy -= 1

    def _answer_with(self, request, work):
        """Runs `work()` on a worker and answers `request` with its result or error."""

        def run():
            try:
                result = work()
            except RpcError as error:
                self.peer.answer(request, error=error)
            except Exception as error:  # the dispatcher's own bug: still one answer
                write_log_line("error", "internal error in %s: %s" % (request.method, traceback.format_exc()))
                self.peer.answer(request, error=RpcError(ErrorCodes.InternalError, str(error) or type(error).__name__))
            else:
                self.peer.answer(request, result)

        self._submit(run)

    def _plugin_code(self, what, function, *args, code=ErrorCodes.PluginError):
        """Calls plugin code; anything it raises becomes an RpcError whose message reaches the user."""
        try:
            return function(*args)
        except RpcError:
            raise
        except ConfigError as error:
            raise RpcError(code, str(error) or "%s failed" % what) from None
        except Exception as error:
            write_log_line("warn", "%s raised %s: %s" % (what, type(error).__name__, error), {"stack": traceback.format_exc()})
            raise RpcError(code, str(error) or "%s failed (%s)" % (what, type(error).__name__)) from None

    def _handler(self, record, name, call, *args):
        function = getattr(record.instance, name)
        if self.plugin.wants_call.get(name):
            args = args + (call,)
        return function, args

    # -- requests -----------------------------------------------------------------------------

    def _on_request(self, request):
        method = request.method
        entry = REQUESTS.get(method)
        if entry is None:
            raise RpcError(ErrorCodes.MethodNotFound, 'unknown method "%s"' % method)
        if method != "initialize" and self.state == "new":
            raise RpcError(ErrorCodes.NotInitialized, '"%s" before "initialize"; send "initialize" first' % method)
        if self.state in ("shuttingDown", "done"):
            raise RpcError(ErrorCodes.ShuttingDown, '"%s" after "shutdown"; the plugin is stopping' % method)
        capability, check = entry
        if capability and capability not in self.capabilities:
            raise RpcError(ErrorCodes.NotSupported, '%s is not a %s ("%s")' % (self.plugin.info.get("name", self.plugin.info["modulePath"]), capability, method))
        params = request.params
        require_valid(method, check, params)
        if method == "initialize":
            self.peer.answer(request, self._initialize(params))
            return
        if method == "ping":
            self.peer.answer(request, {})
            return
        if method == "plugin/info":
            self.peer.answer(request, {"info": self.plugin.info, "capabilities": list(self.plugin.capabilities)})
            return
        if method == "shutdown":
            self.state = "shuttingDown"
            self.shutdown_received = True
            threading.Thread(target=self._shutdown, args=(request,), name="flow-shutdown", daemon=True).start()
            return
        if method == "instance/create":
            self.peer.answer(request, self._create(params))
            return
        instance_id = params["instanceId"]
        record = self.instances.get(instance_id)
        if record is None:
            raise RpcError(ErrorCodes.UnknownInstance, 'no instance "%s"; create it with instance/create first' % instance_id, {"instanceId": instance_id})
        call = Call(request.cancelled, record.ctx.stopped)
        if method == "instance/destroy":
            # Gone at once: calls racing the destroy get UnknownInstance, not a half-stopped instance.
            del self.instances[instance_id]
            self._answer_with(request, lambda: self._destroy(record))
        elif method == "instance/enable":
            self._answer_with(request, lambda: self._set_enabled(record, True, call))
        elif method == "instance/disable":
            self._answer_with(request, lambda: self._set_enabled(record, False, call))
        elif method == "config/default":
            self._answer_with(request, lambda: self._default_config(record, call))
        elif method == "config/validateAndSet":
            self._answer_with(request, lambda: self._validate_and_set(record, params, call))
        elif method == "display/get":
            self._answer_with(request, lambda: self._display(record, params, call))
        elif method == "webhook/request":
            self._answer_with(request, lambda: self._webhook(record, params, call))

    def _initialize(self, params):
        if self.state != "new":
            raise RpcError(ErrorCodes.InvalidRequest, '"initialize" was already received')
        offered = params["protocolVersions"]
        version = negotiate(offered)
        if version is None:
            raise RpcError(
                ErrorCodes.IncompatibleVersion,
                "no common protocol version: the host speaks %s, this plugin speaks %s; update the plugin or the server" % (", ".join(offered), ", ".join(PROTOCOL_VERSIONS)),
                {"hostVersions": offered, "pluginVersions": list(PROTOCOL_VERSIONS)},
            )
        self.version = version
        self.peer.max_outgoing_frame_bytes = params["limits"]["maxFrameBytes"]
        self.state = "ready"
        result = {"protocolVersion": version, "info": self.plugin.info, "capabilities": list(self.plugin.capabilities)}
        if self.plugin.config_schema is not None and self.speaks("1.1"):
            result["configSchema"] = self.plugin.config_schema
        return result

    def _create(self, params):
        instance_id = params["instanceId"]
        if instance_id in self.instances:
            message = 'instance "%s" already exists' % instance_id
            raise RpcError(ErrorCodes.InvalidParams, message, {"issues": [{"path": ["instanceId"], "message": message}]})
        ctx = Context(self, instance_id, params["user"], params["webhookBasePath"])
        instance = self._plugin_code("creating the instance", self.plugin.instance, ctx)
        self.instances[instance_id] = _Record(instance_id, instance, ctx)
        return {}

    def _set_enabled(self, record, enabled, call):
        with record.lock:
            if record.enabled == enabled:
                return {}
            name = "enable" if enabled else "disable"
            if hasattr(record.instance, name):
                function, args = self._handler(record, name, call)
                self._plugin_code(name, function, *args)
            record.enabled = enabled
            return {}

    def _destroy(self, record):
        with record.lock:
            if record.enabled and hasattr(record.instance, "disable"):
                function, args = self._handler(record, "disable", Call(threading.Event(), record.ctx.stopped))
                try:
                    self._plugin_code("disable", function, *args)
                except RpcError as error:
                    self.log("warn", "disable during destroy failed: %s" % error.message, None, record.id)
            record.enabled = False
            record.ctx.stopped.set()
        return {}

    def _defaults(self, record, call):
        """(document, dataclass or None) of the instance's default config."""
        function, args = self._handler(record, "default_config", call)
        value = self._plugin_code("default_config", function, *args)
        if isinstance(value, str):
            cached_text, cached_doc = self._default_text_cache
            if cached_text != value:
                try:
                    cached_doc = config_module.parse_config_text(value)
                except ConfigError as error:
                    raise RpcError(ErrorCodes.PluginError, "the default config does not parse: %s" % error) from None
                self._default_text_cache = (value, cached_doc)
            return cached_doc, self.plugin.config_class, value
        kind = type(value) if dataclasses.is_dataclass(value) else self.plugin.config_class
        document = config_module.to_plain(value if value is not None else {})
        if not isinstance(document, dict):
            raise RpcError(ErrorCodes.PluginError, "default_config must return a dataclass, a dict or YAML text")
        return document, kind, None

    def _default_config(self, record, call):
        document, _, text = self._defaults(record, call)
        result = {"config": text if text is not None else config_module.render_yaml(document)}
        if self.plugin.secret_keys:
            result["secretKeys"] = list(self.plugin.secret_keys)
        return result

    def _validate_and_set(self, record, params, call):
        with record.lock:
            value = params.get("value")
            if "value" not in params:
                # A 1.0 host sends only the text (a 1.1 host always sends the value, spec section 7.6).
                try:
                    value = config_module.parse_config_text(params["config"])
                except ConfigError as error:
                    raise RpcError(ErrorCodes.InvalidConfig, "config is not valid YAML: %s" % error) from None
            defaults, kind, _ = self._defaults(record, call)
            try:
                config = config_module.build(kind, config_module.merge(defaults, value))
            except ConfigError as error:
                raise RpcError(ErrorCodes.InvalidConfig, str(error)) from None
            function, args = self._handler(record, "validate_and_set_config", call, config)
            self._plugin_code("validate_and_set_config", function, *args, code=ErrorCodes.InvalidConfig)
            return {}

    def _display(self, record, params, call):
        function, args = self._handler(record, "get_display", call, DisplayLocation(params["location"]))
        markdown = self._plugin_code("get_display", function, *args)
        if not isinstance(markdown, str):
            raise RpcError(ErrorCodes.PluginError, "get_display must return a markdown string")
        return {"markdown": markdown}

    def _webhook(self, record, params, call):
        function, args = self._handler(record, "handle_webhook", call, WebhookRequest(params))
        return encode_reply(self._plugin_code("handle_webhook", function, *args))

    # -- notifications ------------------------------------------------------------------------

    def _on_notification(self, method, params):
        if method == "exit":
            self._end(0 if self.shutdown_received else 1)
            return
        if self.state in ("new", "done") or method == "initialized" or method.startswith("$/"):
            return
        if method != "message/received":
            write_log_line("warn", 'ignored unknown notification "%s"' % method)
            return
        if "subscriber" not in self.capabilities:
            write_log_line("warn", "ignored message/received: the plugin is not a subscriber")
            return
        if self.state != "ready":
            return
        issues = issues_of(MESSAGE_RECEIVED, params)
        if issues:
            write_log_line("warn", "ignored message/received with invalid params: %s" % issues[0]["message"], {"issues": issues})
            return
        record = self.instances.get(params["instanceId"])
        if record is None:
            write_log_line("warn", 'ignored message/received for unknown instance "%s"' % params["instanceId"])
            return
        raw = params["message"]
        message = Message(raw["id"], raw["appid"], raw["message"], raw["title"], raw["priority"], raw["date"], raw.get("extras") or {})
        # Notifications are handled in the order they came (spec section 8): one drain per instance.
        with self._busy_lock:
            record.messages.append(message)
            if record.draining:
                return
            record.draining = True
        self._submit(lambda: self._drain_messages(record))

    def _drain_messages(self, record):
        while True:
            with self._busy_lock:
                if not record.messages:
                    record.draining = False
                    return
                message = record.messages.pop(0)
            if record.ctx.stopped.is_set():
                continue
            function, args = self._handler(record, "on_message", Call(threading.Event(), record.ctx.stopped), message)
            try:
                self._plugin_code("on_message", function, *args)
            except RpcError as error:
                self.log("error", "on_message failed: %s" % error.message, None, record.id)

    # -- the end ------------------------------------------------------------------------------

    def _shutdown(self, request):
        """disable() every enabled instance (host calls still work there), then stop every instance and let
        running handlers settle, within SHUTDOWN_GRACE_SECONDS; then answer."""
        deadline = time.monotonic() + SHUTDOWN_GRACE_SECONDS
        records = list(self.instances.values())
        threads = []
        for record in records:
            thread = threading.Thread(target=self._disable_for_shutdown, args=(record,), daemon=True)
            thread.start()
            threads.append(thread)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._stop_instances()
        with self._busy_lock:
            self._busy_lock.wait_for(lambda: self._busy == 0, max(0.0, deadline - time.monotonic()))
        self.peer.answer(request, {})

    def _disable_for_shutdown(self, record):
        with record.lock:
            if not record.enabled:
                return
            record.enabled = False
            if not hasattr(record.instance, "disable"):
                return
            function, args = self._handler(record, "disable", Call(threading.Event(), record.ctx.stopped))
            try:
                self._plugin_code("disable", function, *args)
            except RpcError as error:
                self.log("warn", "disable during shutdown failed: %s" % error.message, None, record.id)

    def _stop_instances(self):
        for record in list(self.instances.values()):
            record.ctx.stopped.set()

    def _end(self, code):
        if self._exit_code is None:
            self._exit_code = code
        self.state = "done"
        self.peer.close()


def _jsonable(fields):
    import json

    try:
        json.dumps(fields)
        return fields
    except (TypeError, ValueError):
        return {key: value if isinstance(value, (str, int, float, bool, type(None))) else repr(value) for key, value in fields.items()}
