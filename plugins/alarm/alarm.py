#!/usr/bin/env python3
"""Flow alarm plugin: HTTP and TCP checks that send an alarm when a check starts failing and a
recovery message when it passes again.

Written in Python with the standard library only, from Flow's protocol specification
(spec/protocol.md) alone: its framing, JSON-RPC handling and lifecycle are all in this file.
Install it by copying (or linking) this one executable file into the Flow server's plugins
directory. Run by hand it prints this help; `--info` prints its PluginInfo as JSON.
"""

import base64
import hashlib
import http
import http.client
import itertools
import json
import os
import re
import socket
import ssl
import sys
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

PLUGIN_VERSIONS = ["1.0"]
INFO = {
    "modulePath": "github.com/flow/plugins/alarm",
    "name": "alarm",
    "version": "1.0.0",
    "author": "Flow",
    "website": "https://github.com/flow/flow/tree/main/plugins/alarm",
    "license": "MIT",
    "description": "Checks HTTP URLs and TCP ports on an interval; alarms when one fails, reports when it recovers.",
}
CAPABILITIES = ["configurer", "displayer", "messenger", "storager"]
DEFAULT_MAX_FRAME_BYTES = 8 * 1024 * 1024
MAX_CHECKS = 200

# Wire error codes (spec section 10).
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
PLUGIN_ERROR = 1000
TIMEOUT = 1001
UNKNOWN_INSTANCE = 1002
NOT_SUPPORTED = 1003
TRANSPORT_CLOSED = 1004
INCOMPATIBLE_VERSION = 1005
NOT_INITIALIZED = 1006
INVALID_CONFIG = 1007
SHUTTING_DOWN = 1009
FRAME_TOO_LARGE = 1010

# Methods of capabilities this plugin does not declare: answered NotSupported, not MethodNotFound.
UNDECLARED_METHODS = {"webhook/request"}


class RpcError(Exception):
    """An error that crosses the wire as a JSON-RPC error object."""

    def __init__(self, code, message, data=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_json(self):
        error = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


# ---------------------------------------------------------------------------------------------
# Logging: stderr is the log stream; one JSON object per line (spec section 13).

_log_lock = threading.Lock()


def log(level, message, instance_id=None, **fields):
    line = {"time": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"), "level": level, "message": message}
    if instance_id is not None:
        line["instanceId"] = instance_id
    if fields:
        line["fields"] = fields
    text = json.dumps(line, ensure_ascii=False, default=str)
    with _log_lock:
        try:
            sys.stderr.write(text + "\n")
            sys.stderr.flush()
        except (OSError, ValueError):
            pass


# ---------------------------------------------------------------------------------------------
# A small YAML subset. The standard library has no YAML parser, so this accepts what the
# configuration needs and rejects the rest with the line number:
# - block mappings (`key: value`) and block sequences (`- item`, `- key: value` items), nested
#   by indentation with spaces;
# - scalars: plain text, 'single' and "double" quoted strings, integers, decimals, true/false,
#   null/~;
# - JSON-compatible flow collections (`[]`, `{}`, `["a", 1]`), and a whole document in JSON;
# - `#` comments at line start or after a space.
# Not accepted: anchors/aliases (&, *), tags (!), block scalars (| and >), multi-line plain
# scalars, multiple documents.


class ConfigError(Exception):
    """A rejected configuration; the message is the short reason the user sees."""


def _strip_comment(line):
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"" and (i == 0 or line[i - 1] in " \t:-[{,"):
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i]
    return line


_INT = re.compile(r"^[-+]?\d+$")
_FLOAT = re.compile(r"^[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?$")


def _parse_scalar(text, line_no):
    s = text.strip()
    if s == "":
        return None
    if s[0] == '"':
        end = _closing_double_quote(s)
        if end != len(s) - 1:
            raise ConfigError(f"line {line_no}: unterminated or trailing text after a quoted string")
        try:
            return json.loads(s)
        except ValueError:
            raise ConfigError(f"line {line_no}: invalid escape in a double-quoted string") from None
    if s[0] == "'":
        if len(s) < 2 or not s.endswith("'") or re.search(r"(?<!')'(?!')", s[1:-1]):
            raise ConfigError(f"line {line_no}: unterminated or trailing text after a quoted string")
        return s[1:-1].replace("''", "'")
    if s[0] in "[{":
        try:
            return json.loads(s)
        except ValueError:
            pass
        if s[0] == "[" and s.endswith("]") and not re.search(r"[\[\]{}\"']", s[1:-1]):
            inner = s[1:-1].strip()
            return [] if inner == "" else [_parse_scalar(part, line_no) for part in inner.split(",")]
        raise ConfigError(f"line {line_no}: flow collections must be JSON, e.g. [\"a\", \"b\"]")
    if s[0] in "|>":
        raise ConfigError(f"line {line_no}: block scalars (| and >) are not supported; use a quoted string")
    if s[0] in "&*!":
        raise ConfigError(f"line {line_no}: anchors, aliases and tags are not supported")
    if ": " in s or s.endswith(":"):
        raise ConfigError(f"line {line_no}: quote values that contain ': '")
    if s in ("null", "Null", "NULL", "~"):
        return None
    if s in ("true", "True", "TRUE"):
        return True
    if s in ("false", "False", "FALSE"):
        return False
    if _INT.match(s):
        return int(s)
    if _FLOAT.match(s):
        return float(s)
    return s


def _closing_double_quote(s):
    i = 1
    while i < len(s):
        if s[i] == "\\":
            i += 2
            continue
        if s[i] == '"':
            return i
        i += 1
    return -1


def _split_key(text, line_no):
    """`key: value` -> (key, value text); the key may be quoted."""
    if text[0] in "'\"":
        end = _closing_double_quote(text) if text[0] == '"' else text.find("'", 1)
        if end < 0:
            raise ConfigError(f"line {line_no}: unterminated quoted key")
        key = _parse_scalar(text[: end + 1], line_no)
        rest = text[end + 1 :]
        if not (rest == ":" or rest.startswith(": ")):
            raise ConfigError(f"line {line_no}: expected ':' after the key")
        return key, rest[1:].strip()
    match = re.match(r"^([^:]+?)\s*:(?:\s+(.*))?$", text)
    if not match:
        raise ConfigError(f"line {line_no}: expected 'key: value'")
    return match.group(1), (match.group(2) or "").strip()


def _is_item(text):
    return text == "-" or text.startswith("- ")


def _parse_block(lines, i, indent):
    if _is_item(lines[i][2]):
        return _parse_sequence(lines, i, indent)
    return _parse_mapping(lines, i, indent)


def _parse_sequence(lines, i, indent):
    items = []
    while i < len(lines) and lines[i][1] == indent and _is_item(lines[i][2]):
        line_no, _, text = lines[i]
        rest = text[1:].lstrip(" ")
        if rest == "":
            if i + 1 < len(lines) and lines[i + 1][1] > indent:
                value, i = _parse_block(lines, i + 1, lines[i + 1][1])
            else:
                value, i = None, i + 1
        elif _is_item(rest) or re.match(r"^(\"[^\"]*\"|'[^']*'|[^'\"\[{][^:]*?)\s*:(\s|$)", rest):
            # `- key: value` (or `- - x`): a nested block whose first line starts at the item's column.
            lines[i] = (line_no, indent + len(text) - len(rest), rest)
            value, i = _parse_block(lines, i, lines[i][1])
        else:
            value, i = _parse_scalar(rest, line_no), i + 1
        items.append(value)
        if i < len(lines) and lines[i][1] > indent:
            raise ConfigError(f"line {lines[i][0]}: unexpected indentation")
    return items, i


def _parse_mapping(lines, i, indent):
    result = {}
    while i < len(lines) and lines[i][1] == indent:
        line_no, _, text = lines[i]
        if _is_item(text):
            raise ConfigError(f"line {line_no}: a list item where a 'key: value' was expected")
        key, rest = _split_key(text, line_no)
        if not isinstance(key, str):
            key = str(key)
        if key in result:
            raise ConfigError(f"line {line_no}: duplicate key '{key}'")
        if rest == "":
            nxt = lines[i + 1] if i + 1 < len(lines) else None
            # YAML lets a list under a key start at the key's own indentation.
            if nxt and (nxt[1] > indent or (nxt[1] == indent and _is_item(nxt[2]))):
                value, i = _parse_block(lines, i + 1, nxt[1])
            else:
                value, i = None, i + 1
        else:
            value, i = _parse_scalar(rest, line_no), i + 1
        result[key] = value
        if i < len(lines) and lines[i][1] > indent:
            raise ConfigError(f"line {lines[i][0]}: unexpected indentation")
    return result, i


def parse_yaml(text):
    """Parses the YAML subset described above; raises ConfigError with the line number."""
    stripped = text.strip()
    if stripped.startswith("{") or stripped.startswith("["):
        try:
            return json.loads(stripped)
        except ValueError:
            pass
    lines = []
    for line_no, raw in enumerate(text.splitlines(), 1):
        content = _strip_comment(raw).rstrip()
        if content.strip() == "":
            continue
        lead = content[: len(content) - len(content.lstrip(" \t"))]
        if "\t" in lead:
            raise ConfigError(f"line {line_no}: indent with spaces, not tabs")
        if content.strip() in ("---", "...") and lead == "":
            if any(lines):
                raise ConfigError(f"line {line_no}: only one YAML document is supported")
            continue
        lines.append((line_no, len(lead), content.strip()))
    if not lines:
        return None
    if len(lines) == 1 and not _is_item(lines[0][2]) and not re.match(r"^[^:]+:(\s|$)", lines[0][2]):
        return _parse_scalar(lines[0][2], lines[0][0])
    value, i = _parse_block(lines, 0, lines[0][1])
    if i < len(lines):
        raise ConfigError(f"line {lines[i][0]}: unexpected indentation")
    return value


# ---------------------------------------------------------------------------------------------
# Configuration

DEFAULT_CONFIG = """\
# Checks run every `interval`, all at the same time. A check fails when it does not pass within
# `timeout`: an HTTP check needs a status below 400 (or exactly `expect_status`), a TCP check a
# connection. An alarm goes out when a check starts failing, a recovery message when it passes
# again, and nothing while its state stays the same.
#
# checks:
#   - name: website
#     url: https://example.com/health
#   - name: api
#     url: http://10.0.0.5:8080/ready
#     expect_status: 204
#     timeout: 2s
#   - name: database
#     tcp: db.example.com:5432
checks: []

interval: 60s            # durations: 500ms, 30s, 5m, 1h, or a number of seconds
timeout: 10s             # per check, unless the check sets its own
alarm_priority: 8        # priority of "is down" messages
recovery_priority: 4     # priority of "is up again" messages
"""

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}


def parse_duration(value):
    """Seconds from `500ms`, `30s`, `5m`, `1h` or a bare number of seconds; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if value >= 0 else None
    if not isinstance(value, str):
        return None
    match = _DURATION.match(value.strip().lower())
    if not match:
        return None
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def format_duration(seconds):
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    seconds = round(seconds)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts)


def min_interval(env):
    """Shortest accepted interval: 10 s, or FLOW_ALARM_MIN_INTERVAL set by the administrator."""
    value = parse_duration(env.get("FLOW_ALARM_MIN_INTERVAL", "")) if env.get("FLOW_ALARM_MIN_INTERVAL") else None
    return 10.0 if value is None else value


def _duration_field(value, where, low, high):
    seconds = parse_duration(value)
    if seconds is None:
        raise ConfigError(f"{where}: not a duration (use e.g. 30s, 5m)")
    if seconds < low:
        raise ConfigError(f"{where}: must be at least {format_duration(low)}")
    if seconds > high:
        raise ConfigError(f"{where}: must be at most {format_duration(high)}")
    return seconds


def _int_field(value, where, low, high):
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{where}: must be a whole number")
    if value < low or value > high:
        raise ConfigError(f"{where}: must be between {low} and {high}")
    return value


def _parse_tcp_target(value, where):
    if not isinstance(value, str) or value.strip() == "":
        raise ConfigError(f"{where}: must be host:port")
    match = re.match(r"^\[([0-9a-fA-F:.]+)\]:(\d+)$", value.strip()) or re.match(r"^([^\s:/\[\]]+):(\d+)$", value.strip())
    if not match:
        raise ConfigError(f"{where}: must be host:port (IPv6 as [addr]:port)")
    port = int(match.group(2))
    if not 1 <= port <= 65535:
        raise ConfigError(f"{where}: port must be between 1 and 65535")
    return match.group(1), port


def _parse_url(value, where):
    if not isinstance(value, str) or value.strip() == "":
        raise ConfigError(f"{where}: must be a URL")
    if re.search(r"[\s\x00-\x1f\x7f]", value.strip()):
        raise ConfigError(f"{where}: must not contain spaces or control characters (percent-encode them)")
    try:
        parsed = urllib.parse.urlsplit(value.strip())
    except ValueError as err:
        # urlsplit refuses some inputs outright ("Invalid IPv6 URL" for an unclosed bracket).
        raise ConfigError(f"{where}: not a valid URL ({err})") from None
    if parsed.scheme not in ("http", "https"):
        raise ConfigError(f"{where}: only http and https URLs are allowed")
    try:
        port = parsed.port
    except ValueError:
        raise ConfigError(f"{where}: invalid port") from None
    if not parsed.hostname:
        raise ConfigError(f"{where}: the URL has no host")
    del port
    return value.strip()


def load_config(text, env=None):
    """YAML text -> validated config dict, user keys merged onto the defaults (spec 7.6)."""
    env = os.environ if env is None else env
    try:
        user = parse_yaml(text)
    except ConfigError:
        raise
    except RecursionError:
        raise ConfigError("the configuration is nested too deeply") from None
    if user is None:
        user = {}
    if not isinstance(user, dict):
        raise ConfigError("the configuration must be a mapping of keys to values")
    merged = dict(parse_yaml(DEFAULT_CONFIG))
    merged.update(user)

    interval = _duration_field(merged["interval"], "interval", min_interval(env), 24 * 3600)
    timeout = _duration_field(merged["timeout"], "timeout", 0.05, 300)
    config = {
        "interval": interval,
        "timeout": timeout,
        "alarm_priority": _int_field(merged["alarm_priority"], "alarm_priority", 0, 10),
        "recovery_priority": _int_field(merged["recovery_priority"], "recovery_priority", 0, 10),
        "checks": [],
    }
    checks = merged["checks"]
    if checks is None:
        checks = []
    if not isinstance(checks, list):
        raise ConfigError("checks: must be a list")
    if len(checks) > MAX_CHECKS:
        raise ConfigError(f"checks: at most {MAX_CHECKS} checks")
    names = {}
    for i, raw in enumerate(checks):
        where = f"checks[{i}]"
        if not isinstance(raw, dict):
            raise ConfigError(f"{where}: must be a mapping with url or tcp")
        has_url, has_tcp = raw.get("url") is not None, raw.get("tcp") is not None
        if has_url == has_tcp:
            raise ConfigError(f"{where}: set exactly one of url and tcp")
        check = {"timeout": timeout}
        if has_url:
            check["kind"] = "http"
            check["url"] = _parse_url(raw["url"], f"{where}.url")
            check["target"] = check["url"]
            if raw.get("expect_status") is not None:
                check["expect_status"] = _int_field(raw["expect_status"], f"{where}.expect_status", 100, 599)
        else:
            if raw.get("expect_status") is not None:
                raise ConfigError(f"{where}.expect_status: only for url checks")
            host, port = _parse_tcp_target(raw["tcp"], f"{where}.tcp")
            check.update(kind="tcp", host=host, port=port, target=raw["tcp"].strip())
        name = raw.get("name")
        if name is None:
            name = check["target"]
        if not isinstance(name, (str, int, float)) or isinstance(name, bool) or str(name).strip() == "":
            raise ConfigError(f"{where}.name: must be text")
        check["name"] = str(name).strip()[:100]
        if check["name"] in names:
            raise ConfigError(f"{where}.name: '{check['name']}' is already used by checks[{names[check['name']]}]")
        names[check["name"]] = i
        if raw.get("timeout") is not None:
            check["timeout"] = _duration_field(raw["timeout"], f"{where}.timeout", 0.05, 300)
        # The state is keyed by name and target: pointing a name at another target starts afresh.
        digest = hashlib.sha256(f"{check['name']}\n{check['target']}".encode()).hexdigest()[:32]
        check["key"] = f"check:{digest}"
        config["checks"].append(check)
    return config


# ---------------------------------------------------------------------------------------------
# Checks


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Used when a 3xx status is what the check expects: the redirect itself is the answer."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _network_reason(err, timeout):
    if isinstance(err, (TimeoutError, socket.timeout)):
        return f"timed out after {format_duration(timeout)}"
    if isinstance(err, ConnectionRefusedError):
        return "connection refused"
    if isinstance(err, ConnectionResetError):
        return "connection reset"
    if isinstance(err, socket.gaierror):
        return "host not found"
    if isinstance(err, ssl.SSLCertVerificationError):
        return f"TLS certificate not valid: {err.verify_message}"
    if isinstance(err, ssl.SSLError):
        return f"TLS error: {err.reason or err}"
    if isinstance(err, http.client.HTTPException):
        return f"bad HTTP response: {type(err).__name__}"
    if isinstance(err, OSError) and err.strerror:
        return err.strerror.lower()
    return str(err) or type(err).__name__


def check_http(check):
    """(passed, detail). GETs the URL without reading the body; redirects are followed unless a
    3xx status is expected. Proxies from the environment are ignored: the check is about the
    target, not about a proxy."""
    expect = check.get("expect_status")
    handlers = [urllib.request.ProxyHandler({})]
    if expect is not None and 300 <= expect < 400:
        handlers.append(_NoRedirect())
    opener = urllib.request.build_opener(*handlers)
    request = urllib.request.Request(check["url"], method="GET", headers={"User-Agent": "Flow-Alarm/1.0", "Accept": "*/*"})
    try:
        with opener.open(request, timeout=check["timeout"]) as response:
            status, reason = response.status, response.reason
    except urllib.error.HTTPError as err:
        status, reason = err.code, err.reason
        err.close()
        if 300 <= status < 400 and not (expect is not None and 300 <= expect < 400):
            # urllib gives up on a redirect it cannot follow (a loop, more than 10 hops, no
            # Location) by raising it: the target is as unreachable as a browser finds it, and
            # err.reason then holds urllib's multi-line explanation, not the status text.
            phrase = _status_phrase(status)
            why = "redirect loop" if "infinite loop" in str(reason) else "redirect not followed"
            return False, f"HTTP {status}{' ' + phrase if phrase else ''} ({why})"
        if "\n" in str(reason):
            reason = _status_phrase(status)
    except urllib.error.URLError as err:
        inner = err.reason if isinstance(err.reason, BaseException) else err
        return False, _network_reason(inner, check["timeout"])
    except Exception as err:  # noqa: BLE001 - any failure of the target is a failed check
        return False, _network_reason(err, check["timeout"])
    detail = f"HTTP {status}{' ' + reason if reason else ''}"
    if expect is not None:
        return status == expect, detail if status == expect else f"{detail} (expected {expect})"
    return status < 400, detail


def _status_phrase(status):
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def check_tcp(check):
    try:
        with socket.create_connection((check["host"], check["port"]), timeout=check["timeout"]):
            return True, "connected"
    except Exception as err:  # noqa: BLE001
        return False, _network_reason(err, check["timeout"])


def run_check(check):
    return check_http(check) if check["kind"] == "http" else check_tcp(check)


def run_round(checks, runner=run_check, busy=None, stop=None):
    """Runs checks at the same time, each in its own daemon thread, and returns {key: (passed,
    detail)} once all finished or their deadline passed. A thread that outlives its deadline
    (a server trickling its headers) is abandoned and reported as timed out; `busy` holds the
    keys of such threads so the next round does not pile another one on top. When `stop` is set
    the round waits at most 2 s more and returns with what it has."""
    busy = set() if busy is None else busy
    results = {}
    threads = []
    lock = threading.Lock()

    def work(check):
        try:
            outcome = runner(check)
        except Exception as err:  # noqa: BLE001 - a bug in a check must not end the round
            outcome = (False, f"check failed: {err}")
        with lock:
            results[check["key"]] = outcome
            busy.discard(check["key"])

    start = time.monotonic()
    for check in checks:
        with lock:
            if check["key"] in busy:
                results[check["key"]] = (False, f"timed out after {format_duration(check['timeout'])}")
                continue
            busy.add(check["key"])
        thread = threading.Thread(target=work, args=(check,), name=f"check {check['name']}", daemon=True)
        thread.start()
        threads.append((check, thread))
    stopped_at = None
    for check, thread in threads:
        # Socket timeouts apply per operation; one extra second bounds the whole check. Once stopped,
        # checks get at most 2 s more: enough for a started request to finish (none may reach a
        # target after disable returns), short enough for the host's 10 s disable deadline.
        deadline = start + check["timeout"] + 1.0
        while thread.is_alive() and time.monotonic() < deadline:
            if stopped_at is None and stop is not None and stop.is_set():
                stopped_at = time.monotonic()
            if stopped_at is not None:
                deadline = min(deadline, stopped_at + 2.0)
            thread.join(min(0.1, max(0.0, deadline - time.monotonic())))
        with lock:
            if check["key"] not in results:
                results[check["key"]] = (False, f"timed out after {format_duration(check['timeout'])}")
    return results


def now_iso():
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def format_time(iso):
    return iso.replace("T", " ").replace("Z", " UTC") if iso else "—"


def transition_message(check, passed, detail, previous, config, now):
    """The message for a state change, or None when the state did not change. `previous` is the
    stored state (None for a check never seen): a check that is up when first seen says nothing,
    one that is down when first seen alarms."""
    was = previous["state"] if previous else None
    if passed and was in (None, "up"):
        return None
    if not passed and was == "down":
        return None
    what = f"GET {check['url']}" if check["kind"] == "http" else f"TCP {check['target']}"
    extras = {"client::display": {"contentType": "text/plain"}, "alarm::check": {"name": check["name"], "state": "up" if passed else "down"}}
    if check["kind"] == "http":
        extras["client::notification"] = {"click": {"url": check["url"]}}
    if not passed:
        return {
            "title": f"DOWN: {check['name']}",
            "message": f"{what} failed: {detail}.\nSince {format_time(now)}.",
            "priority": config["alarm_priority"],
            "extras": extras,
        }
    down_for = ""
    since = previous.get("since") if previous else None
    if since:
        try:
            seconds = (datetime.fromisoformat(now.replace("Z", "+00:00")) - datetime.fromisoformat(since.replace("Z", "+00:00"))).total_seconds()
            down_for = f" after {format_duration(max(seconds, 0))} down"
        except ValueError:
            down_for = ""
    return {
        "title": f"UP: {check['name']}",
        "message": f"{what} passes again ({detail}){down_for}.\nDown since {format_time(since)}.",
        "priority": config["recovery_priority"],
        "extras": extras,
    }


def _md(text):
    # Every ASCII punctuation character, ":" and "/" included: unescaped, a target such as
    # https://example.com/health is autolinked by GFM with the backslashes of its escaped dots
    # inside the href (https://example%5C.com/health), a dead link on the plugin page.
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", str(text))


def render_display(config, states, enabled):
    """Markdown for the plugin page: one row per check with its state and last change."""
    if not config["checks"]:
        return (
            "No checks configured yet. Add some to the configuration, for example:\n\n"
            "```yaml\nchecks:\n  - name: website\n    url: https://example.com/health\n  - name: database\n    tcp: db.example.com:5432\n```"
        )
    head = (
        f"Checking {len(config['checks'])} target{'s' if len(config['checks']) != 1 else ''} every {format_duration(config['interval'])}."
        if enabled
        else "Not checking: the plugin is disabled. The states below are the last ones seen."
    )
    rows = ["| Check | Target | State | Since | Last checked | Detail |", "|---|---|---|---|---|---|"]
    for check in config["checks"]:
        state = states.get(check["key"]) or {}
        shown = {"up": "up", "down": "**DOWN**"}.get(state.get("state"), "not checked yet")
        rows.append(
            f"| {_md(check['name'])} | {_md(check['target'])} | {shown} | {format_time(state.get('since'))} "
            f"| {format_time(state.get('checked'))} | {_md(state.get('detail', '—'))} |"
        )
    return head + "\n\n" + "\n".join(rows)


# ---------------------------------------------------------------------------------------------
# Framing (spec section 2): `Content-Length: N\r\n\r\n` + N bytes of UTF-8 JSON.

_CONTENT_LENGTH = re.compile(rb"content-length:", re.IGNORECASE)
_HEADER_LINE = re.compile(rb"^[!-9;-~]+:[ \t]*[ -~]*$")
_PARTIAL_HEADER_LINE = re.compile(rb"^[!-9;-~]*(:[ -~]*)?$")
_SNIFF_ID = re.compile(rb'"id"\s*:\s*(-?\d+|"(?:[^"\\]|\\.)*")')


def encode_frame(message):
    body = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body


class FrameReader:
    """Reads frames from a binary stream and calls `on_message(obj)`; `on_reply(msg)` answers
    bad input that deserves an answer (spec 2.5). Never raises for bad input: it logs and
    resynchronises on the next `Content-Length:`."""

    CHUNK = 65536

    def __init__(self, stream, on_message, on_reply):
        self.stream = stream
        self.on_message = on_message
        self.on_reply = on_reply
        self.max_frame_bytes = DEFAULT_MAX_FRAME_BYTES
        self.buf = bytearray()
        self.eof = False
        self.in_garbage = False

    def _fill(self):
        if self.eof:
            return False
        chunk = self.stream.read1(self.CHUNK) if hasattr(self.stream, "read1") else self.stream.read(self.CHUNK)
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def _skip_garbage(self, start=1):
        """Drops bytes up to the next `Content-Length:` at or after `start` (or keeps only a
        tail that could be the start of one); logs once per run of garbage. Returns whether
        one was found."""
        if not self.in_garbage:
            log("error", "skipping bytes that are not a frame header", sample=bytes(self.buf[:60]).decode("utf-8", "replace"))
            self.in_garbage = True
        match = _CONTENT_LENGTH.search(self.buf, start)
        if match:
            del self.buf[: match.start()]
            return True
        keep = 0
        lowered = bytes(self.buf[-15:]).lower()
        for size in range(min(15, len(lowered)), 0, -1):
            if b"content-length:".startswith(lowered[-size:]):
                keep = size
                break
        del self.buf[: len(self.buf) - keep]
        return False

    @staticmethod
    def _plausible_header(block, complete):
        """Whether `block` is (the start of) a header block: `Name: value` lines of ASCII."""
        lines = block.split(b"\r\n")
        last = lines.pop()
        if any(not _HEADER_LINE.match(line) for line in lines):
            return False
        if complete:
            return last == b"" or bool(_HEADER_LINE.match(last))
        return bool(_PARTIAL_HEADER_LINE.match(last[:-1] if last.endswith(b"\r") else last))

    def run(self):
        resync = False
        while True:
            if not self.buf and not self._fill():
                return
            if resync:
                # After a header without a usable length, its body is unframed: skip to the next header.
                resync = not self._skip_garbage(start=0)
                if resync and not self._fill():
                    return
                continue
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                if not self._plausible_header(bytes(self.buf), False) or len(self.buf) > 64 * 1024:
                    self._skip_garbage()
                    continue
                if not self._fill():
                    if self.buf:
                        log("error", "stdin ended in the middle of a frame header")
                    return
                continue
            header = bytes(self.buf[:end])
            if not self._plausible_header(header, True):
                self._skip_garbage()
                continue
            del self.buf[: end + 4]
            length, charset_ok = None, True
            for line in header.split(b"\r\n"):
                name, _, value = line.partition(b":")
                name, value = name.strip().lower(), value.strip()
                if name == b"content-length":
                    length = int(value) if value.isdigit() else None
                elif name == b"content-type":
                    match = re.search(rb"charset\s*=\s*\"?([\w-]+)", value, re.IGNORECASE)
                    charset_ok = match is None or match.group(1).lower() in (b"utf-8", b"utf8")
            if length is None:
                log("error", "frame header without a valid Content-Length; skipping to the next frame")
                self.in_garbage = True
                resync = True
                continue
            self.in_garbage = False
            if length > self.max_frame_bytes:
                self._skip_oversized(length)
                continue
            while len(self.buf) < length:
                if not self._fill():
                    log("error", "stdin ended in the middle of a frame")
                    return
            body = bytes(self.buf[:length])
            if not charset_ok:
                del self.buf[:length]
                self.on_reply({"jsonrpc": "2.0", "id": None, "error": {"code": PARSE_ERROR, "message": "Frame charset is not UTF-8"}})
                continue
            half = self._deliver(body)
            # A half frame (spec 2.5): its sender wrote fewer bytes than announced, then the next
            # frame. Resume at the header inside the body so that next frame is not lost.
            match = _CONTENT_LENGTH.search(body) if half else None
            del self.buf[: match.start() if match else length]

    def _skip_oversized(self, length):
        head = bytes(self.buf[:1024])
        while len(head) < 1024 and len(head) < length and self._fill():
            head = bytes(self.buf[:1024])
        remaining = length
        while remaining > 0:
            if not self.buf and not self._fill():
                break
            take = min(remaining, len(self.buf))
            del self.buf[:take]
            remaining -= take
        match = _SNIFF_ID.search(head)
        if match and b'"method"' in head:
            request_id = json.loads(match.group(1))
            self.on_reply(
                {
                    "jsonrpc": "2.0",
                    "id": request_id,
                    "error": {
                        "code": FRAME_TOO_LARGE,
                        "message": f"Frame of {length} bytes is over the limit of {self.max_frame_bytes} bytes; it was skipped",
                        "data": {"limitBytes": self.max_frame_bytes, "frameBytes": length},
                    },
                }
            )
        else:
            log("error", "skipped an oversized frame", frameBytes=length, limitBytes=self.max_frame_bytes)

    def _deliver(self, body):
        try:
            message = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as err:
            self.on_reply({"jsonrpc": "2.0", "id": None, "error": {"code": PARSE_ERROR, "message": f"Frame body is not valid JSON: {err}"}})
            return True
        if not isinstance(message, dict) or message.get("jsonrpc") != "2.0" or ("method" in message and not isinstance(message["method"], str)):
            msg_id = message.get("id") if isinstance(message, dict) else None
            if isinstance(msg_id, bool) or not isinstance(msg_id, (int, str)):
                msg_id = None
            self.on_reply({"jsonrpc": "2.0", "id": msg_id, "error": {"code": INVALID_REQUEST, "message": "Not a JSON-RPC 2.0 message"}})
            return
        if "method" not in message and "result" not in message and "error" not in message:
            msg_id = message.get("id")
            self.on_reply({"jsonrpc": "2.0", "id": msg_id if isinstance(msg_id, (int, str)) and not isinstance(msg_id, bool) else None, "error": {"code": INVALID_REQUEST, "message": "A message needs a method, a result or an error"}})
            return
        self.on_message(message)


# ---------------------------------------------------------------------------------------------
# JSON-RPC connection: the reader thread never blocks (spec section 8); requests run on workers.


class Connection:
    def __init__(self, stdin, stdout):
        self.stdout = stdout
        self.write_lock = threading.Lock()
        self.pending = {}
        self.pending_lock = threading.Lock()
        self.ids = itertools.count(1)
        self.closed = False
        self.reader = FrameReader(stdin, self._on_message, self.send)
        self.request_handler = None
        self.notification_handler = None
        self.workers = ThreadPoolExecutor(max_workers=16, thread_name_prefix="rpc")

    def send(self, message):
        frame = encode_frame(message)
        with self.write_lock:
            try:
                self.stdout.write(frame)
                self.stdout.flush()
            except (OSError, ValueError):
                self.closed = True

    def respond(self, request_id, result=None, error=None):
        message = {"jsonrpc": "2.0", "id": request_id}
        if error is not None:
            message["error"] = error.to_json()
        else:
            message["result"] = result if result is not None else {}
        self.send(message)

    def notify(self, method, params):
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def call(self, method, params, timeout=10.0):
        """Calls the host and waits for the answer; raises RpcError (Timeout after `timeout` s,
        with a $/cancelRequest sent, as spec section 9 asks)."""
        if self.closed:
            raise RpcError(TRANSPORT_CLOSED, "the host connection is closed")
        request_id = next(self.ids)
        slot = {"event": threading.Event(), "response": None}
        with self.pending_lock:
            self.pending[request_id] = slot
        self.send({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        if not slot["event"].wait(timeout):
            with self.pending_lock:
                self.pending.pop(request_id, None)
            self.notify("$/cancelRequest", {"id": request_id})
            raise RpcError(TIMEOUT, f"{method} got no answer within {format_duration(timeout)}", {"timeoutMs": int(timeout * 1000)})
        response = slot["response"]
        if response is None:
            raise RpcError(TRANSPORT_CLOSED, "the host connection closed before the answer")
        if "error" in response:
            err = response["error"] if isinstance(response["error"], dict) else {}
            raise RpcError(err.get("code", INTERNAL_ERROR), str(err.get("message", "error")), err.get("data"))
        return response.get("result")

    def _on_message(self, message):
        if "method" in message:
            params = message.get("params", {})
            if "id" in message:
                self.request_handler(message["id"], message["method"], params)
            else:
                self.notification_handler(message["method"], params)
            return
        with self.pending_lock:
            slot = self.pending.pop(message.get("id"), None)
        if slot is None:
            return  # late answer to a call that timed out (spec 2.5: ignore)
        slot["response"] = message
        slot["event"].set()

    def serve(self):
        """Reads until stdin ends, then fails every pending call with TransportClosed."""
        try:
            self.reader.run()
        finally:
            self.closed = True
            with self.pending_lock:
                slots = list(self.pending.values())
                self.pending.clear()
            for slot in slots:
                slot["event"].set()


# ---------------------------------------------------------------------------------------------
# Instances


class AlarmInstance:
    """One user's checks. While enabled a runner thread runs a round of checks every interval,
    compares each result with the stored state, sends a message on a change and then stores
    the new state: a message whose send fails is retried next round, so none is lost, and a
    stored state is never alarmed again, so a restart repeats nothing."""

    def __init__(self, plugin, instance_id):
        self.plugin = plugin
        self.id = instance_id
        self.config = load_config(DEFAULT_CONFIG, plugin.env)
        self.states = {}  # key -> {"state", "since", "checked", "detail"}
        self.loaded = set()  # keys read from storage in this process
        self.lock = threading.Lock()
        self.enabled = False
        self.stop = threading.Event()
        self.wake = threading.Event()
        self.thread = None
        self.busy = set()
        self.prune = True

    # Lifecycle ------------------------------------------------------------------------------

    def set_config(self, text):
        config = load_config(text, self.plugin.env)
        with self.lock:
            self.config = config
            self.prune = True
        self.wake.set()

    def enable(self):
        with self.lock:
            if self.enabled:
                return
            self.enabled = True
            self.stop = threading.Event()
            self.wake = threading.Event()
            self.thread = threading.Thread(target=self._run, args=(self.stop, self.wake), name=f"alarm {self.id}", daemon=True)
            self.thread.start()

    def disable(self):
        """Stops the runner and waits for its round to end, so nothing is sent afterwards."""
        with self.lock:
            if not self.enabled:
                return
            self.enabled = False
            self.stop.set()
            self.wake.set()
            thread = self.thread
        if thread is not None and thread is not threading.current_thread():
            # Under the host's 10 s deadline for instance/disable; a round notices `stop` within 0.1 s
            # unless it is inside a host call, which has its own 10 s deadline.
            thread.join(timeout=8)

    def display(self):
        with self.lock:
            return render_display(self.config, dict(self.states), self.enabled)

    # Runner ---------------------------------------------------------------------------------

    def _run(self, stop, wake):
        while not stop.is_set():
            started = time.monotonic()
            wake.clear()
            try:
                self._round(stop)
            except Exception:  # noqa: BLE001 - a failed round is logged; the next one runs
                log("error", f"check round failed: {traceback.format_exc()}", self.id)
            with self.lock:
                interval = self.config["interval"]
            wake.wait(max(0.0, interval - (time.monotonic() - started)))

    def _kv(self, method, **params):
        return self.plugin.conn.call(method, dict(params, instanceId=self.id))

    def _round(self, stop):
        with self.lock:
            config = self.config
            prune = self.prune
            self.prune = False
        if prune:
            self._prune_storage(config)
        for check in config["checks"]:
            if check["key"] not in self.loaded:
                stored = self._kv("kv/get", key=check["key"]).get("value")
                with self.lock:
                    if stored is not None:
                        try:
                            self.states[check["key"]] = json.loads(stored)
                        except ValueError:
                            log("warn", "stored check state is unreadable; starting afresh", self.id, check=check["name"])
                    self.loaded.add(check["key"])
        results = run_round(config["checks"], busy=self.busy, stop=stop)
        for check in config["checks"]:
            if stop.is_set():
                return  # disabled mid-round: unsent changes are found again next time
            passed, detail = results[check["key"]]
            self._apply(config, check, passed, detail)

    def _apply(self, config, check, passed, detail):
        now = now_iso()
        with self.lock:
            previous = self.states.get(check["key"])
        message = transition_message(check, passed, detail, previous, config, now)
        state = "up" if passed else "down"
        if message is not None:
            try:
                self.plugin.conn.call("message/send", dict(message, instanceId=self.id))
            except RpcError as err:
                # Not stored: the change is seen again next round and the message retried.
                log("warn", f"could not send the {state} message; retrying next round", self.id, check=check["name"], error=err.message)
                with self.lock:
                    if previous is not None:
                        previous["checked"] = now
                return
            log("info", f"{check['name']} is {state}", self.id, detail=detail)
        changed = previous is None or previous.get("state") != state
        record = {
            "state": state,
            "since": now if changed else previous.get("since"),
            "checked": now,
            "detail": detail,
            "name": check["name"],
        }
        with self.lock:
            self.states[check["key"]] = record
        if changed or previous.get("detail") != detail:
            try:
                self._kv("kv/set", key=check["key"], value=json.dumps(record))
            except RpcError as err:
                log("warn", "could not store a check state", self.id, check=check["name"], error=err.message)

    def _prune_storage(self, config):
        """Forgets the states of checks no longer configured."""
        wanted = {check["key"] for check in config["checks"]}
        try:
            keys = self._kv("kv/list", prefix="check:").get("keys", [])
            for key in keys:
                if key not in wanted:
                    self._kv("kv/delete", key=key)
                    with self.lock:
                        self.states.pop(key, None)
                        self.loaded.discard(key)
        except RpcError as err:
            log("warn", "could not remove states of removed checks", self.id, error=err.message)
            with self.lock:
                self.prune = True


# ---------------------------------------------------------------------------------------------
# The plugin: lifecycle and method dispatch (spec sections 4 and 7).


def _require(params, name, kind, where=None):
    value = params.get(name) if isinstance(params, dict) else None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise RpcError(INVALID_PARAMS, f"params.{name} is missing or has the wrong type", {"issues": [{"path": [name] if where is None else where, "message": f"expected {kind.__name__}"}]})
    return value


class AlarmPlugin:
    def __init__(self, conn, env):
        self.conn = conn
        self.env = env
        self.state = "new"  # new -> initialized -> ready -> shut down
        self.shutdown_received = False
        self.instances = {}
        self.instances_lock = threading.Lock()
        conn.request_handler = self.on_request
        conn.notification_handler = self.on_notification

    def on_notification(self, method, params):
        if method == "exit":
            os._exit(0 if self.shutdown_received else 1)
        if self.state == "new":
            return  # before initialize only `exit` counts (spec 4.2)
        if method == "initialized":
            self.state = "ready"
        # `$/cancelRequest`: every handler here is short, so a cancel finds nothing worth stopping.
        # `message/received` is not declared; unknown notifications are ignored.

    def on_request(self, request_id, method, params):
        if params is None:
            params = {}
        if not isinstance(params, dict):
            self.conn.respond(request_id, error=RpcError(INVALID_PARAMS, "params must be an object", {"issues": [{"path": [], "message": "expected object"}]}))
            return
        if method == "initialize":
            self._answer(request_id, self.initialize, params)
            return
        if self.state == "new":
            self.conn.respond(request_id, error=RpcError(NOT_INITIALIZED, f"{method} before initialize"))
            return
        if self.shutdown_received:
            self.conn.respond(request_id, error=RpcError(SHUTTING_DOWN, "the plugin is shutting down"))
            return
        if method == "ping":
            self.conn.respond(request_id, {})
            return
        handler = self.handlers().get(method)
        if handler is None:
            code = NOT_SUPPORTED if method in UNDECLARED_METHODS else METHOD_NOT_FOUND
            text = f"{method} needs a capability this plugin does not declare" if code == NOT_SUPPORTED else f"Unknown method {method}"
            self.conn.respond(request_id, error=RpcError(code, text))
            return
        self.conn.workers.submit(self._answer, request_id, handler, params)

    def _answer(self, request_id, handler, params):
        try:
            result = handler(params)
        except RpcError as err:
            self.conn.respond(request_id, error=err)
        except ConfigError as err:
            self.conn.respond(request_id, error=RpcError(INVALID_CONFIG, str(err)))
        except Exception as err:  # noqa: BLE001 - a bug answers InternalError, the plugin keeps serving
            log("error", f"handler failed: {traceback.format_exc()}")
            self.conn.respond(request_id, error=RpcError(INTERNAL_ERROR, f"internal error: {err}"))
        else:
            self.conn.respond(request_id, result)

    def handlers(self):
        return {
            "shutdown": self.shutdown,
            "plugin/info": lambda p: {"info": INFO, "capabilities": CAPABILITIES},
            "instance/create": self.instance_create,
            "instance/destroy": self.instance_destroy,
            "instance/enable": lambda p: self._instance(p).enable() or {},
            "instance/disable": lambda p: self._instance(p).disable() or {},
            "config/default": self.config_default,
            "config/validateAndSet": self.config_validate_and_set,
            "display/get": self.display_get,
        }

    def initialize(self, params):
        if self.state != "new":
            raise RpcError(INVALID_REQUEST, "initialize was already received")
        offered = params.get("protocolVersions")
        if not isinstance(offered, list) or not offered or not all(isinstance(v, str) for v in offered):
            raise RpcError(INVALID_PARAMS, "params.protocolVersions must be a non-empty list of strings", {"issues": [{"path": ["protocolVersions"], "message": "expected non-empty string[]"}]})
        version = negotiate(offered, PLUGIN_VERSIONS)
        if version is None:
            raise RpcError(
                INCOMPATIBLE_VERSION,
                f"No common protocol version: the host speaks {', '.join(offered)}, this plugin speaks {', '.join(PLUGIN_VERSIONS)}",
                {"hostVersions": offered, "pluginVersions": PLUGIN_VERSIONS},
            )
        limits = params.get("limits") if isinstance(params.get("limits"), dict) else {}
        if isinstance(limits.get("maxFrameBytes"), int) and limits["maxFrameBytes"] > 0:
            self.conn.reader.max_frame_bytes = limits["maxFrameBytes"]
        self.state = "initialized"
        return {"protocolVersion": version, "info": INFO, "capabilities": CAPABILITIES}

    def shutdown(self, params):
        with self.instances_lock:
            instances = list(self.instances.values())
        for instance in instances:
            instance.disable()
        self.shutdown_received = True
        return {}

    def _instance(self, params):
        instance_id = _require(params, "instanceId", str)
        with self.instances_lock:
            instance = self.instances.get(instance_id)
        if instance is None:
            raise RpcError(UNKNOWN_INSTANCE, f'Unknown instance "{instance_id}"', {"instanceId": instance_id})
        return instance

    def instance_create(self, params):
        instance_id = _require(params, "instanceId", str)
        user = _require(params, "user", dict)
        _require(user, "id", int, ["user", "id"])
        _require(params, "webhookBasePath", str)
        with self.instances_lock:
            if instance_id in self.instances:
                raise RpcError(INVALID_PARAMS, f'Instance "{instance_id}" already exists', {"issues": [{"path": ["instanceId"], "message": "already exists"}]})
            self.instances[instance_id] = AlarmInstance(self, instance_id)
        return {}

    def instance_destroy(self, params):
        instance = self._instance(params)
        instance.disable()
        with self.instances_lock:
            self.instances.pop(instance.id, None)
        return {}

    def config_default(self, params):
        self._instance(params)
        return {"config": DEFAULT_CONFIG, "secretKeys": []}

    def config_validate_and_set(self, params):
        instance = self._instance(params)
        instance.set_config(_require(params, "config", str))
        return {}

    def display_get(self, params):
        instance = self._instance(params)
        _require(params, "location", dict)
        return {"markdown": instance.display()}


def negotiate(offered, supported):
    """Spec 4.3: among offers whose major this plugin speaks, the highest MAJOR.min(minor) pair."""
    best = None
    for offer in offered:
        match = re.match(r"^(\d+)\.(\d+)$", offer)
        if not match:
            continue
        major, minor = int(match.group(1)), int(match.group(2))
        for mine in supported:
            my_major, my_minor = (int(x) for x in mine.split("."))
            if my_major == major:
                candidate = (major, min(minor, my_minor))
                if best is None or candidate > best:
                    best = candidate
    return None if best is None else f"{best[0]}.{best[1]}"


# ---------------------------------------------------------------------------------------------


def main(argv):
    if "--info" in argv:
        print(json.dumps({"info": INFO, "capabilities": CAPABILITIES, "protocolVersions": PLUGIN_VERSIONS}))
        return 0
    if "--help" in argv or "-h" in argv or not os.environ.get("FLOW_PLUGIN_PROTOCOL"):
        sys.stderr.write(
            f"{INFO['name']} {INFO['version']} ({INFO['modulePath']}): a Flow server plugin.\n"
            f"{INFO['description']}\n\n"
            "It is started by the Flow server, not by hand: copy or link this file into the server's plugins\n"
            "directory (keep it executable) and restart the server. `--info` prints its info as JSON.\n"
        )
        return 0 if ("--help" in argv or "-h" in argv) else 1
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    # stdout carries frames only: anything printed by mistake goes to the log instead.
    sys.stdout = sys.stderr
    conn = Connection(stdin, stdout)
    plugin = AlarmPlugin(conn, dict(os.environ))
    conn.serve()
    # stdin ended: the host is gone or done with us (spec 4.2 step 7). Daemon threads die with us.
    sys.stderr.flush()
    os._exit(0 if plugin.shutdown_received else 1)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
