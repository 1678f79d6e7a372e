"""`self.ctx` of an instance: who it serves, its host services (storage, kv, send), its log, its lifetime.

Every host call blocks the calling handler thread until the host answers (or the method's deadline of
spec section 6 passes: RpcError Timeout), never the reader: other requests, pings included, go on.
"""

import base64
import json
import threading

from .errors import ErrorCodes, RpcError
from .log import Logger

HOST_CALL_TIMEOUT = 10.0


class User:
    """The user an instance serves, as at instance creation."""

    __slots__ = ("id", "name", "admin")

    def __init__(self, user):
        self.id = user["id"]
        self.name = user["name"]
        self.admin = user["admin"]

    def __repr__(self):
        return "User(id=%r, name=%r, admin=%r)" % (self.id, self.name, self.admin)


class Storage:
    """The instance's blob (needs uses=["storager"]): replaced whole, counted against the quota."""

    __slots__ = ("_call",)

    def __init__(self, call):
        self._call = call

    def load(self):
        """The saved bytes; b"" when nothing was saved."""
        data = self._call("storage/load", {})["data"]
        return base64.b64decode(data) if data else b""

    def save(self, data):
        """Replaces the blob (bytes or str). RpcError QuotaExceeded over the host's quota."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        self._call("storage/save", {"data": base64.b64encode(bytes(data)).decode("ascii")})

    def load_json(self, default=None):
        data = self.load()
        return json.loads(data.decode("utf-8")) if data else default

    def save_json(self, value):
        self.save(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


class KeyValue:
    """Small named string values (needs uses=["storager"]), same quota as the blob."""

    __slots__ = ("_call", "_speaks")

    def __init__(self, call, speaks):
        self._call = call
        self._speaks = speaks

    def get(self, key):
        """The value, or None when the key is not set."""
        return self._call("kv/get", {"key": key})["value"]

    def set(self, key, value):
        self._call("kv/set", {"key": key, "value": value})

    def delete(self, key):
        """False when the key was not set."""
        return self._call("kv/delete", {"key": key})["deleted"]

    def list(self, prefix=None):
        """Every key starting with `prefix`, sorted; reads every page on a 1.1 host."""
        return [key for page in self.pages(prefix) for key in page]

    def pages(self, prefix=None, limit=None):
        """Yields the keys page by page (1.1 hosts; one page on 1.0), for maps too large to hold at once."""
        params = {} if prefix is None else {"prefix": prefix}
        if limit is not None and self._speaks("1.1"):
            params["limit"] = limit
        while True:
            page = self._call("kv/list", params)
            yield page["keys"]
            cursor = page.get("nextCursor")
            if cursor is None or not self._speaks("1.1"):
                return
            params = dict(params, cursor=cursor)

    def compare_and_set(self, key, expected, value):
        """Atomically sets `value` (None deletes) if the key holds `expected` (None: unset). Protocol 1.1.
        Returns (swapped, the value the key holds now)."""
        self._need_1_1("kv.compare_and_set")
        result = self._call("kv/compareAndSet", {"key": key, "expected": expected, "value": value})
        return result["swapped"], result["value"]

    def increment(self, key, delta=1):
        """Atomically adds `delta` to a decimal integer value (unset counts as 0); returns the sum. Protocol 1.1."""
        self._need_1_1("kv.increment")
        return self._call("kv/increment", {"key": key, "delta": delta})["value"]

    def _need_1_1(self, what):
        if not self._speaks("1.1"):
            raise RpcError(ErrorCodes.MethodNotFound, "%s needs protocol 1.1; this host speaks 1.0 (upgrade the server)" % what)


class Context:
    """What an instance gets: `instance_id`, `user`, `webhook_base_path`, `log`, `storage`, `kv`, `send`,
    `stopped` (an Event set when the instance is destroyed or the plugin stops: end loops and timers with
    it), `speaks(version)`."""

    __slots__ = ("instance_id", "user", "webhook_base_path", "stopped", "_session", "_log", "_storage", "_kv")

    def __init__(self, session, instance_id, user, webhook_base_path):
        self.instance_id = instance_id
        self.user = User(user)
        self.webhook_base_path = webhook_base_path
        self.stopped = threading.Event()
        self._session = session
        self._log = None
        self._storage = None
        self._kv = None

    @property
    def log(self):
        if self._log is None:
            self._log = Logger(self._session.log, self.instance_id)
        return self._log

    @property
    def storage(self):
        if self._storage is None:
            self._storage = Storage(self._host_call("storager", "ctx.storage"))
        return self._storage

    @property
    def kv(self):
        if self._kv is None:
            self._kv = KeyValue(self._host_call("storager", "ctx.kv"), self._session.speaks)
        return self._kv

    def speaks(self, version):
        """Whether the host agreed on at least `version` ("1.1")."""
        return self._session.speaks(version)

    def send(self, message, title=None, priority=None, extras=None):
        """Sends a message as the instance's application (needs uses=["messenger"]); returns its id."""
        if not isinstance(message, str) or not message:
            raise ValueError("ctx.send: message must be a non-empty string")
        params = {"message": message}
        if title is not None:
            params["title"] = str(title)
        if priority is not None:
            if isinstance(priority, bool) or not isinstance(priority, int):
                raise ValueError("ctx.send: priority must be an integer")
            params["priority"] = priority
        if extras is not None:
            if not isinstance(extras, dict):
                raise ValueError("ctx.send: extras must be a dict")
            params["extras"] = extras
        return self._host_call("messenger", "ctx.send")("message/send", params)["id"]

    def _host_call(self, capability, what):
        session = self._session
        instance_id = self.instance_id
        if capability not in session.capabilities:
            raise RuntimeError('%s needs uses=["%s"] in Plugin(...)' % (what, capability))

        def call(method, params):
            params = dict(params)
            params["instanceId"] = instance_id
            result = session.peer.request(method, params, HOST_CALL_TIMEOUT)
            if not isinstance(result, dict):
                raise RpcError(ErrorCodes.InternalError, "the host answered %s with an invalid result: %r" % (method, result))
            return result

        return call
