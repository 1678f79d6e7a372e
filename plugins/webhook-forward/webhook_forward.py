"""webhook-forward: forwards each of the user's messages to a webhook URL (a Flow plugin, Python kit).

Every new message of the user (any application but this plugin's own) whose priority is at least
`min_priority` is sent to `url` as an HTTP request: the message as JSON, or `template` filled in. A
delivery that fails with a network error, a timeout, HTTP 408, 429 or 5xx is tried again with
exponential backoff; other answers are final. The plugin page shows the recent deliveries and failures,
and a delivery that gives up can notify the user.
"""

import heapq
import itertools
import json
import re
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Dict, Optional

from flow_plugin import ConfigError, Plugin, PluginInstance, RpcError, WebhookReply, run_plugin

VERSION = "1.0.0"
RECENT = 20
MAX_PENDING = 100
MAX_BACKOFF_SECONDS = 300.0
PLACEHOLDERS = ("id", "appid", "title", "message", "priority", "date", "user", "extras")
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_]+)\s*\}\}")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


@dataclass
class Config:
    url: str = ""
    method: str = "POST"
    headers: Dict[str, str] = field(default_factory=dict)
    template: Optional[str] = None
    content_type: str = "application/json"
    min_priority: int = 0
    retries: int = 3
    backoff: float = 1.0
    timeout: float = 10.0
    notify_failures: bool = True


DEFAULT_CONFIG = """\
# Where each of your new messages is sent (http or https). Empty: nothing is forwarded.
url: ""
method: POST                   # POST, PUT or PATCH
# Extra request headers, e.g. a token the receiver wants (their values are kept secret):
# headers:
#   Authorization: Bearer s3cr3t
headers: {}
# The request body. Without a template it is the message as JSON:
#   {"id": 12, "appid": 3, "title": "...", "message": "...", "priority": 5, "date": "...", "extras": {}}
# A template fills in {{title}}, {{message}}, {{priority}}, {{id}}, {{appid}}, {{date}}, {{user}} and
# {{extras}}; with a JSON content type each value is JSON-escaped, so this stays valid JSON:
# template: '{"text": "{{title}}: {{message}}"}'
template: null
content_type: application/json
min_priority: 0                # messages with a lower priority are not forwarded
retries: 3                     # further attempts after a failed one (network error, timeout, 408, 429, 5xx)
backoff: 1                     # seconds before the first retry, doubled for each next one (at most 300)
timeout: 10                    # seconds per attempt
notify_failures: true          # send yourself a message when a delivery gives up
"""

CONFIG_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "url": {"type": "string", "pattern": "^(https?://.+)?$", "description": "http(s) URL the messages are sent to; empty forwards nothing"},
        "method": {"enum": ["POST", "PUT", "PATCH"]},
        "headers": {"type": "object", "additionalProperties": {"type": "string"}},
        "template": {"type": ["string", "null"]},
        "content_type": {"type": "string", "minLength": 1},
        "min_priority": {"type": "integer"},
        "retries": {"type": "integer", "minimum": 0, "maximum": 10},
        "backoff": {"type": "number", "exclusiveMinimum": 0, "maximum": 300},
        "timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": 120},
        "notify_failures": {"type": "boolean"},
    },
}


def check_config(config):
    """Raises ConfigError with a short reason for what the schema cannot say (and for 1.0 hosts, which do not check it)."""
    if config.url:
        parsed = urllib.parse.urlsplit(config.url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ConfigError("url: must be an http or https URL, e.g. https://example.com/hook")
    if config.method not in ("POST", "PUT", "PATCH"):
        raise ConfigError("method: must be POST, PUT or PATCH")
    for name, value in config.headers.items():
        if not _HEADER_NAME.match(name) or "\r" in value or "\n" in value:
            raise ConfigError("headers: %r is not a valid header" % name)
        if name.lower() in ("content-length", "host", "transfer-encoding", "connection"):
            raise ConfigError("headers: %s is set by the plugin itself" % name)
    if not config.content_type.strip() or "\n" in config.content_type:
        raise ConfigError("content_type: must be a media type, e.g. application/json")
    if not 0 <= config.retries <= 10:
        raise ConfigError("retries: must be from 0 to 10")
    if not 0 < config.backoff <= MAX_BACKOFF_SECONDS:
        raise ConfigError("backoff: must be more than 0 and at most 300 seconds")
    if not 0 < config.timeout <= 120:
        raise ConfigError("timeout: must be more than 0 and at most 120 seconds")
    if config.template is not None:
        for name in _PLACEHOLDER.findall(config.template):
            if name not in PLACEHOLDERS:
                raise ConfigError("template: unknown placeholder {{%s}}; use %s" % (name, ", ".join("{{%s}}" % p for p in PLACEHOLDERS)))
        if _is_json(config.content_type):
            sample = render_body(config, {"id": 1, "appid": 1, "title": 'a "title"', "message": "line\nline", "priority": 5, "date": "2026-01-01T00:00:00Z", "extras": {}}, "user")
            try:
                json.loads(sample)
            except ValueError as error:
                raise ConfigError("template: with content_type %s it must give JSON (%s)" % (config.content_type, error)) from None


def _is_json(content_type):
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def render_body(config, message, user):
    """The request body for one message, as bytes-ready text."""
    if config.template is None:
        return json.dumps({key: message.get(key) for key in ("id", "appid", "title", "message", "priority", "date", "extras")}, ensure_ascii=False)
    escape = _is_json(config.content_type)
    values = dict(message, user=user)

    def fill(match):
        value = values.get(match.group(1))
        if isinstance(value, (dict, list)):
            text = json.dumps(value, ensure_ascii=False)
            return json.dumps(text)[1:-1] if escape else text
        text = "" if value is None else str(value)
        return json.dumps(text, ensure_ascii=False)[1:-1] if escape else text

    return _PLACEHOLDER.sub(fill, config.template)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


# Proxy variables are not passed to plugins (spec section 3) and are ignored here too: the receiver is reached directly.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def deliver_once(config, body):
    """One attempt: (ok, retryable, detail)."""
    headers = dict(config.headers)
    headers["Content-Type"] = config.content_type
    headers.setdefault("User-Agent", "flow-webhook-forward/" + VERSION)
    request = urllib.request.Request(config.url, data=body.encode("utf-8"), headers=headers, method=config.method)
    try:
        with _OPENER.open(request, timeout=config.timeout) as response:
            response.read(64 * 1024)
            return True, False, "HTTP %d" % response.status
    except urllib.error.HTTPError as error:
        status = error.code
        error.close()
        retryable = status in (408, 429) or status >= 500
        return False, retryable, "HTTP %d %s" % (status, error.reason or "")
    except (socket.timeout, TimeoutError):
        return False, True, "timed out after %gs" % config.timeout
    except urllib.error.URLError as error:
        reason = error.reason
        if isinstance(reason, (socket.timeout, TimeoutError)):
            return False, True, "timed out after %gs" % config.timeout
        return False, True, str(getattr(reason, "strerror", None) or reason)
    except (OSError, ValueError) as error:
        return False, True, str(error)


class Scheduler:
    """Runs jobs on a small pool, now or after a delay (retries), for every instance: no thread per user."""

    def __init__(self, workers=8):
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="forward")
        self._heap = []
        self._sequence = itertools.count()
        self._wake = threading.Condition()
        self._thread = None

    def now(self, job):
        self._pool.submit(job)

    def later(self, delay, job):
        with self._wake:
            heapq.heappush(self._heap, (time.monotonic() + delay, next(self._sequence), job))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="forward-timer", daemon=True)
                self._thread.start()
            self._wake.notify()

    def _run(self):
        while True:
            with self._wake:
                while not self._heap or self._heap[0][0] > time.monotonic():
                    self._wake.wait(None if not self._heap else self._heap[0][0] - time.monotonic())
                _, _, job = heapq.heappop(self._heap)
            self._pool.submit(job)


SCHEDULER = Scheduler()


def now_iso():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _md(text):
    return re.sub(r"([\\`*_{}\[\]()#+!|<>])", r"\\\1", str(text)).replace("\n", " ")


def _safe_url(url):
    """The URL without credentials or query (which may hold a token), for the page."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += ":%d" % parts.port
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


class Forwarder(PluginInstance):
    def __init__(self, ctx):
        super().__init__(ctx)
        self.config = Config()
        self.enabled = False
        self.generation = 0
        self.lock = threading.Lock()
        self.pending = 0
        self.delivered = 0
        self.failed = 0
        self.recent = deque(maxlen=RECENT)
        self.loaded = False

    # -- configuration ----------------------------------------------------------------------

    def default_config(self):
        return DEFAULT_CONFIG

    def validate_and_set_config(self, config):
        check_config(config)
        self.config = config

    # -- lifecycle --------------------------------------------------------------------------

    def load_state(self):
        """The delivery log kept in storage, read once: the page shows it after a restart, enabled or not."""
        if self.loaded:
            return
        state = self.ctx.kv.get("state")
        with self.lock:
            if self.loaded:
                return
            self.loaded = True
            if not state:
                return
            try:
                saved = json.loads(state)
                self.delivered += int(saved.get("delivered", 0))
                self.failed += int(saved.get("failed", 0))
                older = [entry for entry in saved.get("recent", []) if isinstance(entry, dict)]
                self.recent = deque(older + list(self.recent), maxlen=RECENT)
            except (ValueError, TypeError, AttributeError):
                self.ctx.log.warn("ignored a stored delivery log that does not parse")

    def enable(self):
        if not self.config.url:
            raise ConfigError("url is not set: set url in the configuration first")
        self.load_state()
        with self.lock:
            self.generation += 1
            self.enabled = True

    def disable(self):
        with self.lock:
            # Retries scheduled before now belong to an older generation and are dropped.
            self.generation += 1
            self.enabled = False

    # -- messages ---------------------------------------------------------------------------

    def on_message(self, message):
        config = self.config
        if not self.enabled or not config.url or message.priority < config.min_priority:
            return
        payload = {"id": message.id, "appid": message.appid, "title": message.title, "message": message.message, "priority": message.priority, "date": message.date, "extras": message.extras}
        with self.lock:
            if self.pending >= MAX_PENDING:
                self._record_locked("failed", payload, 0, "dropped: %d deliveries are already waiting" % MAX_PENDING)
                dropped = True
            else:
                self.pending += 1
                dropped = False
            generation = self.generation
        if dropped:
            self._save()
            return
        body = render_body(config, payload, self.ctx.user.name)
        SCHEDULER.now(lambda: self._attempt(config, payload, body, 1, generation))

    def _attempt(self, config, payload, body, attempt, generation):
        if self.ctx.stopped.is_set() or generation != self.generation:
            with self.lock:
                self.pending -= 1
            return
        ok, retryable, detail = deliver_once(config, body)
        if not ok and retryable and attempt <= config.retries:
            delay = min(config.backoff * (2 ** (attempt - 1)), MAX_BACKOFF_SECONDS)
            self.ctx.log.info("delivery failed, retrying in %gs" % delay, attempt=attempt, detail=detail)
            SCHEDULER.later(delay, lambda: self._attempt(config, payload, body, attempt + 1, generation))
            return
        with self.lock:
            self.pending -= 1
            self._record_locked("delivered" if ok else "failed", payload, attempt, detail)
        self._save()
        if not ok:
            self.ctx.log.warn("delivery gave up", attempts=attempt, detail=detail)
            if config.notify_failures and not self.ctx.stopped.is_set():
                try:
                    self.ctx.send(
                        "\"%s\" could not be forwarded to %s after %d attempt%s: %s" % (payload["title"], _safe_url(config.url), attempt, "" if attempt == 1 else "s", detail),
                        title="webhook-forward: delivery failed",
                        priority=5,
                    )
                except (RpcError, RuntimeError) as error:
                    self.ctx.log.warn("could not send the failure notice: %s" % error)

    def _record_locked(self, outcome, payload, attempts, detail):
        if outcome == "delivered":
            self.delivered += 1
        else:
            self.failed += 1
        self.recent.append({"time": now_iso(), "outcome": outcome, "id": payload["id"], "title": payload["title"], "attempts": attempts, "detail": detail})

    def _save(self):
        try:
            self.load_state()
        except RpcError:
            pass
        with self.lock:
            state = json.dumps({"delivered": self.delivered, "failed": self.failed, "recent": list(self.recent)})
        try:
            self.ctx.kv.set("state", state)
        except RpcError as error:
            self.ctx.log.debug("could not store the delivery log: %s" % error.message)

    def snapshot(self):
        with self.lock:
            return {"enabled": self.enabled, "delivered": self.delivered, "failed": self.failed, "pending": self.pending, "recent": list(self.recent)[::-1]}

    # -- webhook and page -------------------------------------------------------------------

    def handle_webhook(self, request, call):
        if request.path == "/status" and request.method in ("GET", "HEAD"):
            self.load_state()
            return {"body": self.snapshot()}
        if request.path == "/test" and request.method == "POST":
            config = self.config
            if not config.url:
                return WebhookReply(409, body={"ok": False, "detail": "url is not set"})
            payload = {"id": 0, "appid": 0, "title": "Test from webhook-forward", "message": "If you read this, forwarding works.", "priority": 0, "date": now_iso(), "extras": {}}
            ok, _, detail = deliver_once(config, render_body(config, payload, self.ctx.user.name))
            call.check()
            return {"status": 200 if ok else 502, "body": {"ok": ok, "detail": detail}}
        return WebhookReply(404, body={"error": "not found", "paths": ["GET /status", "POST /test"]})

    def get_display(self, location):
        config = self.config
        self.load_state()
        state = self.snapshot()
        lines = []
        if not config.url:
            lines.append("Not forwarding: set `url` in the configuration, then enable the plugin.")
        elif not state["enabled"]:
            lines.append("Not forwarding: the plugin is disabled. Deliveries go to %s." % _md(_safe_url(config.url)))
        else:
            floor = " with priority %d or more" % config.min_priority if config.min_priority > 0 else ""
            lines.append("Forwarding your new messages%s to %s (%s, %s)." % (floor, _md(_safe_url(config.url)), config.method, _md(config.content_type)))
        lines.append("")
        lines.append("Delivered: **%d**, failed: **%d**, waiting: %d." % (state["delivered"], state["failed"], state["pending"]))
        lines.append("")
        lines.append("Check the target with `curl -X POST %stest`; recent deliveries as JSON: `%sstatus`." % (location.webhook_url, location.webhook_url))
        if state["recent"]:
            lines += ["", "| Time | Message | Outcome | Attempts | Detail |", "|---|---|---|---|---|"]
            for entry in state["recent"]:
                outcome = "delivered" if entry["outcome"] == "delivered" else "**failed**"
                lines.append("| %s | %s | %s | %s | %s |" % (entry["time"], _md(entry["title"] or "#%s" % entry["id"]), outcome, entry["attempts"], _md(entry["detail"])))
        return "\n".join(lines)


plugin = Plugin(
    info={
        "modulePath": "github.com/flow/plugins/webhook-forward",
        "name": "webhook-forward",
        "version": VERSION,
        "author": "Flow",
        "license": "MIT",
        "website": "https://github.com/flow/flow/tree/main/plugins/webhook-forward",
        "description": "Forwards each of your new messages to a webhook URL, with retries and a delivery log.",
    },
    instance=Forwarder,
    uses=["messenger", "storager"],
    secret_keys=["headers"],
    config_schema=CONFIG_SCHEMA,
    config_class=Config,
)

if __name__ == "__main__":
    run_plugin(plugin)
