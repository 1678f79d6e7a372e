"""Webhook requests and replies (spec sections 7.8 and 11): bytes in, bytes out, base64 on the wire."""

import base64
import json
import urllib.parse

from .errors import ErrorCodes, RpcError


class WebhookRequest:
    """One HTTP request under the instance's webhook base path.

    `method` (upper case), `path` (relative to the base path, starting with "/"), `raw_query` (without "?"),
    `query` (dict of name -> list of values), `headers` (lower-case names, repeated ones joined with ", "),
    `body` (bytes), `remote_address` (or None); `text()` and `json()` decode the body.
    """

    __slots__ = ("method", "path", "raw_query", "headers", "body", "remote_address", "_query")

    def __init__(self, params):
        self.method = params["method"]
        self.path = params["path"]
        self.raw_query = params["query"]
        self.headers = params["headers"]
        self.body = base64.b64decode(params["body"]) if params["body"] else b""
        self.remote_address = params.get("remoteAddress")
        self._query = None

    @property
    def query(self):
        if self._query is None:
            self._query = urllib.parse.parse_qs(self.raw_query, keep_blank_values=True)
        return self._query

    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        """The body parsed as JSON; raises ValueError when it is not JSON."""
        return json.loads(self.body.decode("utf-8"))


class WebhookReply:
    """The answer: `status` (default 200), `headers` (name -> str or list of str), `body`.

    A str body is sent as text/plain; charset=utf-8, bytes as application/octet-stream, anything else
    (dict, list, number) as JSON, unless `headers` names a content-type.
    """

    __slots__ = ("status", "headers", "body")

    def __init__(self, status=200, headers=None, body=None):
        self.status = status
        self.headers = headers
        self.body = body


def encode_reply(reply):
    """The wire form (WebhookResponse) of what a handler returned."""
    if reply is None:
        reply = WebhookReply()
    elif isinstance(reply, dict):
        unknown = set(reply) - {"status", "headers", "body"}
        if unknown:
            raise RpcError(ErrorCodes.PluginError, "handle_webhook returned a dict with %s; use status, headers and body" % ", ".join(sorted(unknown)))
        reply = WebhookReply(reply.get("status", 200), reply.get("headers"), reply.get("body"))
    elif not isinstance(reply, WebhookReply):
        raise RpcError(ErrorCodes.PluginError, "handle_webhook returned %s; return a WebhookReply, a dict or None" % type(reply).__name__)
    status = reply.status
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise RpcError(ErrorCodes.PluginError, "handle_webhook returned status %r; use an integer from 100 to 599" % (status,))
    headers = dict(reply.headers or {})
    for name, value in headers.items():
        if not isinstance(name, str) or not (isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))):
            raise RpcError(ErrorCodes.PluginError, "handle_webhook returned header %r; values are strings or lists of strings" % (name,))
    has_type = any(name.lower() == "content-type" for name in headers)
    body = reply.body
    data = None
    kind = None
    if body is None:
        pass
    elif isinstance(body, str):
        data, kind = body.encode("utf-8"), "text/plain; charset=utf-8"
    elif isinstance(body, (bytes, bytearray, memoryview)):
        data, kind = bytes(body), "application/octet-stream"
    else:
        data, kind = json.dumps(body, ensure_ascii=False).encode("utf-8"), "application/json"
    if kind and not has_type:
        headers["content-type"] = kind
    result = {"status": status}
    if headers:
        result["headers"] = headers
    if data is not None:
        result["body"] = base64.b64encode(data).decode("ascii")
    return result
