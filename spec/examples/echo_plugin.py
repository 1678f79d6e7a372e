#!/usr/bin/env python3
"""A complete Flow plugin in Python, standard library only (protocol 1.0).

It shows every part of spec/protocol.md a plugin needs: framing, the handshake with
version negotiation, per-user instances, configuration, display, webhooks, calls back
to the host (message/send, kv/*) while a host request is being handled, logging,
shutdown and exit on stdin EOF. spec/writing-a-plugin.md walks through it.

Install: copy this file into the Flow server's plugins directory, make it executable
(chmod +x), restart the server.
"""

import base64
import itertools
import json
import os
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor

INFO = {
    "modulePath": "github.com/flow-examples/echo-python",
    "name": "echo (python)",
    "version": "1.0.0",
    "author": "Flow",
    "license": "MIT",
    "description": "Answers webhook calls and posts each one as a message.",
}
CAPABILITIES = ["configurer", "displayer", "messenger", "storager", "webhooker"]
SUPPORTED = (1, 0)  # the newest version this plugin speaks: MAJOR.MINOR

DEFAULT_CONFIG = "# Text the echo webhook answers with\nmagic_string: hello world\n"

# Error codes (spec/protocol.md section 10)
METHOD_NOT_FOUND, INVALID_PARAMS, INTERNAL_ERROR, PARSE_ERROR = -32601, -32602, -32603, -32700
PLUGIN_ERROR, UNKNOWN_INSTANCE, INCOMPATIBLE_VERSION = 1000, 1002, 1005
NOT_INITIALIZED, INVALID_CONFIG, SHUTTING_DOWN = 1006, 1007, 1009


class RpcError(Exception):
    def __init__(self, code, message, data=None):
        super().__init__(message)
        self.code, self.message, self.data = code, message, data


def log(level, message, **fields):
    """stderr is the log stream: one JSON object per line (spec section 13)."""
    line = {"level": level, "message": message}
    if fields:
        line["fields"] = fields
    print(json.dumps(line), file=sys.stderr, flush=True)


# --- Transport: Content-Length frames on stdin/stdout (spec section 2) ---------------

stdout = sys.stdout.buffer
write_lock = threading.Lock()


def send(message):
    body = json.dumps(message, ensure_ascii=False).encode("utf-8")
    frame = b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    with write_lock:  # one whole frame per write, never interleaved between threads
        stdout.write(frame)
        stdout.flush()


def read_frames(stream):
    """Yields each frame body (bytes); skips junk up to the next Content-Length header."""
    while True:
        length = None
        while True:
            line = stream.readline()
            if not line:
                return  # EOF
            if line in (b"\r\n", b"\n"):
                if length is not None:
                    break
                continue
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length" and value.strip().isdigit():
                length = int(value.strip())
            elif name.strip().lower() != "content-type":
                log("warn", "skipping unexpected bytes on stdin", bytes=len(line))
        body = stream.read(length)
        if len(body) < length:
            return  # EOF in the middle of a frame
        yield body


# --- Calls to the host --------------------------------------------------------------

next_id = itertools.count(1)
pending = {}  # id -> Future
pending_lock = threading.Lock()


def call_host(method, params, timeout=10.0):
    """A request to the host. Blocks this worker thread only: the reader keeps running."""
    request_id = next(next_id)
    future = Future()
    with pending_lock:
        pending[request_id] = future
    send({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
    try:
        return future.result(timeout)
    except TimeoutError:
        send({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": request_id}})
        raise RpcError(PLUGIN_ERROR, "%s: the server did not answer in %d s" % (method, timeout))
    finally:
        with pending_lock:
            pending.pop(request_id, None)


def on_response(message):
    with pending_lock:
        future = pending.get(message.get("id"))
    if future is None:
        return  # late answer to a call we gave up on
    if "error" in message:
        error = message["error"]
        future.set_exception(RpcError(error.get("code"), error.get("message", ""), error.get("data")))
    else:
        future.set_result(message.get("result"))


# --- The plugin: one Instance per user ------------------------------------------------


def parse_config(text):
    """A flat `key: value` YAML subset, enough for this plugin's one setting."""
    config = {"magic_string": "hello world"}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split(" #")[0].rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise RpcError(INVALID_CONFIG, "line %d is not `key: value`" % number)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        config[key.strip()] = value
    if not config["magic_string"]:
        raise RpcError(INVALID_CONFIG, "magic_string must not be empty")
    return config


class Instance:
    def __init__(self, instance_id, user, webhook_base_path):
        self.id, self.user, self.base_path = instance_id, user, webhook_base_path
        self.config = parse_config(DEFAULT_CONFIG)
        self.enabled = False

    def display(self, location):
        url = "%s://%s%secho" % (location["scheme"], location["host"], location["webhookBasePath"])
        state = "enabled" if self.enabled else "disabled"
        return {"markdown": "Echo for %s is %s. Send a request to <%s>." % (self.user["name"], state, url)}

    def webhook(self, request):
        if request["path"] != "/echo":
            return {"status": 404, "body": b64("not found\n")}
        body = base64.b64decode(request["body"]).decode("utf-8", "replace")
        count = int(call_host("kv/get", {"instanceId": self.id, "key": "count"})["value"] or 0) + 1
        call_host("kv/set", {"instanceId": self.id, "key": "count", "value": str(count)})
        sent = call_host("message/send", {
            "instanceId": self.id,
            "title": "Echo #%d" % count,
            "message": "%s %s: %s" % (request["method"], request["path"], body),
        })
        return {"status": 200, "headers": {"content-type": "text/plain; charset=utf-8"},
                "body": b64("%s (message %d)\n" % (self.config["magic_string"], sent["id"]))}


def b64(text):
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


instances = {}
state = {"initialized": False, "shutdown": False}
# Requests being handled; shutdown is answered only once the others are (spec §4.2 step 5).
in_flight = {"count": 0}
in_flight_done = threading.Condition()


def instance(params):
    found = instances.get(params.get("instanceId"))
    if found is None:
        raise RpcError(UNKNOWN_INSTANCE, "Unknown instance %s" % json.dumps(params.get("instanceId")))
    return found


def initialize(params):
    if state["initialized"]:
        raise RpcError(-32600, "initialize was already called")
    offers = []
    for version in params.get("protocolVersions", []):
        major, _, minor = version.partition(".")
        if major.isdigit() and minor.isdigit() and int(major) == SUPPORTED[0]:
            offers.append(min(int(minor), SUPPORTED[1]))
    mine = "%d.%d" % SUPPORTED
    if not offers:
        raise RpcError(INCOMPATIBLE_VERSION,
                       "No common protocol version: the host speaks %s, this plugin speaks %s"
                       % (", ".join(params.get("protocolVersions", [])), mine),
                       {"hostVersions": params.get("protocolVersions", []), "pluginVersions": [mine]})
    state["initialized"] = True
    return {"protocolVersion": "%d.%d" % (SUPPORTED[0], max(offers)), "info": INFO, "capabilities": CAPABILITIES}


def create(params):
    if params["instanceId"] in instances:
        message = "instance %s already exists" % params["instanceId"]
        raise RpcError(INVALID_PARAMS, message, {"issues": [{"path": ["instanceId"], "message": message}]})
    instances[params["instanceId"]] = Instance(params["instanceId"], params["user"], params["webhookBasePath"])
    return {}


def set_enabled(params, enabled):
    instance(params).enabled = enabled
    return {}


def validate_and_set(params):
    target = instance(params)
    target.config = parse_config(params["config"])  # raises InvalidConfig; old config stays
    return {}


def shutdown(params):
    state["shutdown"] = True
    with in_flight_done:  # every other request answered first (this one counts itself)
        in_flight_done.wait_for(lambda: in_flight["count"] <= 1, timeout=5)
    return {}


REQUESTS = {
    "initialize": initialize,
    "ping": lambda p: {},
    "plugin/info": lambda p: {"info": INFO, "capabilities": CAPABILITIES},
    "instance/create": create,
    "instance/destroy": lambda p: instances.pop(instance(p).id) and {},
    "instance/enable": lambda p: set_enabled(p, True),
    "instance/disable": lambda p: set_enabled(p, False),
    "config/default": lambda p: instance(p) and {"config": DEFAULT_CONFIG, "secretKeys": []},
    "config/validateAndSet": validate_and_set,
    "display/get": lambda p: instance(p).display(p["location"]),
    "webhook/request": lambda p: instance(p).webhook(p),
    "shutdown": shutdown,
}


def handle_request(message):
    request_id, method = message["id"], message["method"]
    try:
        if method != "initialize" and not state["initialized"]:
            raise RpcError(NOT_INITIALIZED, "initialize first")
        if state["shutdown"]:
            raise RpcError(SHUTTING_DOWN, "the plugin is shutting down")
        handler = REQUESTS.get(method)
        if handler is None:
            raise RpcError(METHOD_NOT_FOUND, "Unknown method %s" % method)
        send({"jsonrpc": "2.0", "id": request_id, "result": handler(message.get("params") or {})})
    except RpcError as error:
        payload = {"code": error.code, "message": error.message}
        if error.data is not None:
            payload["data"] = error.data
        send({"jsonrpc": "2.0", "id": request_id, "error": payload})
    except Exception as error:  # a bug in a handler is an error response, never a crash
        log("error", "handler failed", method=method, error=repr(error))
        send({"jsonrpc": "2.0", "id": request_id, "error": {"code": PLUGIN_ERROR, "message": str(error)}})
    finally:
        with in_flight_done:
            in_flight["count"] -= 1
            in_flight_done.notify_all()


def serve():
    workers = ThreadPoolExecutor(max_workers=16)
    for body in read_frames(sys.stdin.buffer):
        try:
            message = json.loads(body.decode("utf-8"))
        except ValueError as error:
            send({"jsonrpc": "2.0", "id": None, "error": {"code": PARSE_ERROR, "message": "invalid JSON: %s" % error}})
            continue
        if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
            send({"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "not a JSON-RPC 2.0 message"}})
        elif "method" not in message:
            on_response(message)
        elif "id" in message:
            # Requests run on workers so this loop keeps reading: a handler waiting for
            # call_host() needs the reader to deliver the host's answer.
            with in_flight_done:
                in_flight["count"] += 1
            workers.submit(handle_request, message)
        elif message["method"] == "exit":
            os._exit(0 if state["shutdown"] else 1)
        # Other notifications (initialized, $/cancelRequest) need nothing here.
    # stdin EOF: the host is gone. Fail the calls waiting for it, let the workers finish, exit.
    with pending_lock:
        for future in pending.values():
            future.set_exception(RpcError(PLUGIN_ERROR, "the connection to the server closed"))
    workers.shutdown(wait=True)
    os._exit(0 if state["shutdown"] else 1)


def main():
    if "--info" in sys.argv[1:]:
        print(json.dumps({"info": INFO, "capabilities": CAPABILITIES, "protocolVersions": ["%d.%d" % SUPPORTED]}))
        return 0
    if "FLOW_PLUGIN_PROTOCOL" not in os.environ:
        print("%s %s (%s) is a Flow plugin.\nCopy it into the Flow server's plugins directory and restart "
              "the server; it is not meant to be run by hand." % (INFO["name"], INFO["version"], INFO["modulePath"]),
              file=sys.stderr)
        return 1
    sys.stdout = sys.stderr  # a stray print() must never reach the protocol stream
    serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
