"""A symmetric JSON-RPC 2.0 peer over Content-Length frames, with threads (spec sections 2, 8 and 9).

- One **reader** (the thread that calls `run`) reads the input, decodes frames and dispatches every
  message at once: it never runs plugin code and never waits for anything but input, so `ping` is
  answered and host answers are matched while handlers wait (spec section 8, "the reader never blocks").
- **Writes** go through `_send`, which queues a frame and lets one thread at a time write everything
  queued: concurrent handlers never interleave bytes, and under load many frames leave in one write.
- **Outgoing calls** (`request`) block the calling handler thread until the answer, the deadline
  (then `$/cancelRequest` and Timeout) or the end of the connection (TransportClosed).
"""

import json
import os
import threading

from .errors import ErrorCodes, RpcError
from .framing import DEFAULT_MAX_FRAME_BYTES, FrameDecoder, check_message_shape, encode_frame

CANCEL_METHOD = "$/cancelRequest"
_READ_BYTES = 256 * 1024


class IncomingRequest:
    """A request being answered. `cancelled` is set by `$/cancelRequest` or when the connection ends."""

    __slots__ = ("id", "method", "params", "cancelled", "answered")

    def __init__(self, request_id, method, params):
        self.id = request_id
        self.method = method
        self.params = params
        self.cancelled = threading.Event()
        self.answered = False


class _Pending:
    """An outgoing call. `_latch` is a lock held until the answer: lighter than an Event (no Condition
    and no waiter lock per wait), which counts at thousands of host calls a second. Released once:
    by the answer, or by `close`, whichever takes the entry out of `Peer._pending` first."""

    __slots__ = ("method", "_latch", "result", "error")

    def __init__(self, method):
        self.method = method
        self._latch = threading.Lock()
        self._latch.acquire()
        self.result = None
        self.error = None

    def set(self):
        self._latch.release()

    def wait(self, timeout=None):
        return self._latch.acquire(timeout=-1 if timeout is None else timeout)


class Peer:
    """`on_request(request)` and `on_notification(method, params)` run on the reader thread and must not block."""

    def __init__(self, input_fd, output_fd, on_request, on_notification, on_problem, max_frame_bytes=DEFAULT_MAX_FRAME_BYTES):
        self._input_fd = input_fd
        self._output_fd = output_fd
        self._on_request = on_request
        self._on_notification = on_notification
        self._on_problem = on_problem
        self._decoder = FrameDecoder(self._receive, self._framing_error, max_frame_bytes)
        self._lock = threading.Lock()
        self._running = {}
        self._pending = {}
        self._next_id = 1
        self._queue = []
        self._writing = False
        self._drained = threading.Condition(self._lock)
        self._closed = False
        self._write_failed = False
        self.reader_thread = None
        # A result larger than this is replaced by a PluginError naming the sizes (spec section 2.3).
        self.max_outgoing_frame_bytes = None

    @property
    def closed(self):
        return self._closed

    # -- reading ------------------------------------------------------------------------------

    def run(self):
        """Reads until end of input; returns when the input ends (or `close` is called)."""
        self.reader_thread = threading.current_thread()
        while not self._closed:
            try:
                chunk = os.read(self._input_fd, _READ_BYTES)
            except InterruptedError:
                continue
            except OSError as error:
                self._on_problem("read-failed", "cannot read from the host: %s" % error)
                break
            if not chunk:
                break
            self._decoder.push(chunk)
        if self._decoder.has_partial_frame and not self._closed:
            self._on_problem("truncated", "the input ended inside a frame (%d bytes unread)" % self._decoder.buffered_bytes)
        self.close()

    def _framing_error(self, error):
        self._on_problem("framing", error.message)
        if error.respond:
            self._send(error.to_response())

    def _receive(self, value):
        if self._closed:
            return
        problem = check_message_shape(value)
        if problem is not None:
            self._on_problem("invalid-message", problem.message)
            self._send(problem.to_response())
            return
        method = value.get("method")
        params = value.get("params")
        if params is None:
            params = {}
        if isinstance(method, str):
            if "id" not in value:
                if method == CANCEL_METHOD:
                    self._cancel(params)
                else:
                    self._on_notification(method, params)
                return
            request_id = value["id"]
            with self._lock:
                duplicate = request_id in self._running
            if duplicate:
                self._send(
                    {"jsonrpc": "2.0", "id": request_id, "error": {"code": ErrorCodes.InvalidRequest, "message": "request id %s is already in use by a running request" % json.dumps(request_id)}}
                )
                return
            request = IncomingRequest(request_id, method, params)
            with self._lock:
                self._running[request_id] = request
            try:
                self._on_request(request)
            except RpcError as error:
                self.answer(request, error=error)
            except Exception as error:  # a bug in the dispatcher: still one answer
                self.answer(request, error=RpcError(ErrorCodes.InternalError, str(error) or type(error).__name__))
            return
        self._response(value)

    def _cancel(self, params):
        request_id = params.get("id") if isinstance(params, dict) else None
        if not isinstance(request_id, (int, str)):
            return
        with self._lock:
            request = self._running.pop(request_id, None)
            if request is None:
                return
            request.answered = True
        request.cancelled.set()
        self._send({"jsonrpc": "2.0", "id": request_id, "error": {"code": ErrorCodes.RequestCancelled, "message": "the request was cancelled"}})

    def _response(self, message):
        request_id = message.get("id")
        with self._lock:
            pending = self._pending.pop(request_id, None) if isinstance(request_id, (int, str)) else None
        if pending is None:
            self._on_problem("unexpected-response", "response to unknown request id %s" % json.dumps(request_id))
            return
        error = message.get("error")
        if error is not None:
            code = error.get("code") if isinstance(error, dict) and isinstance(error.get("code"), int) else ErrorCodes.InternalError
            text = error.get("message") if isinstance(error, dict) and isinstance(error.get("message"), str) else "%s failed" % pending.method
            pending.error = RpcError(code, text, error.get("data") if isinstance(error, dict) else None)
        else:
            pending.result = message.get("result")
        pending.set()

    # -- answering ----------------------------------------------------------------------------

    def answer(self, request, result=None, error=None):
        """Answers `request` once; a second answer, or one after a cancel, is dropped."""
        with self._lock:
            if request.answered:
                return False
            request.answered = True
            if self._running.get(request.id) is request:
                del self._running[request.id]
        if error is None:
            self._send({"jsonrpc": "2.0", "id": request.id, "result": {} if result is None else result}, answer=True)
        else:
            self._send({"jsonrpc": "2.0", "id": request.id, "error": error.to_json()})
        return True

    # -- calling ------------------------------------------------------------------------------

    def request(self, method, params, timeout=None):
        """Calls the other side and waits; raises RpcError (Timeout, TransportClosed, or its answer)."""
        if threading.current_thread() is self.reader_thread:
            raise RuntimeError("%s called on the reader thread: host calls are made from handlers, which run on worker threads" % method)
        with self._lock:
            if self._closed:
                raise RpcError(ErrorCodes.TransportClosed, "cannot call %s: the connection is closed" % method)
            request_id = self._next_id
            self._next_id += 1
            pending = _Pending(method)
            self._pending[request_id] = pending
        self._send({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        if not pending.wait(timeout):
            with self._lock:
                gave_up = self._pending.pop(request_id, None) is not None
            if gave_up:
                self.notify(CANCEL_METHOD, {"id": request_id})
                raise RpcError(ErrorCodes.Timeout, "%s got no answer within %d ms" % (method, int(timeout * 1000)), {"timeoutMs": int(timeout * 1000)})
            pending.wait()
        if pending.error is not None:
            raise pending.error
        return pending.result

    def notify(self, method, params):
        if not self._closed:
            self._send({"jsonrpc": "2.0", "method": method, "params": params})

    # -- writing ------------------------------------------------------------------------------

    def _send(self, message, answer=False):
        try:
            frame = encode_frame(message)
        except (TypeError, ValueError) as error:
            # A result that is not JSON (a set, NaN, an object) must still get an answer.
            frame = encode_frame({"jsonrpc": "2.0", "id": message.get("id"), "error": {"code": ErrorCodes.InternalError, "message": "the answer cannot be sent as JSON: %s" % error}})
        limit = self.max_outgoing_frame_bytes
        if answer and limit is not None and len(frame) - frame.index(b"\r\n\r\n") - 4 > limit:
            size = len(frame) - frame.index(b"\r\n\r\n") - 4
            frame = encode_frame(
                {
                    "jsonrpc": "2.0",
                    "id": message["id"],
                    "error": {"code": ErrorCodes.PluginError, "message": "the answer is %d bytes, over the %d-byte frame limit" % (size, limit), "data": {"limitBytes": limit, "frameBytes": size}},
                }
            )
        with self._lock:
            if self._write_failed:
                return
            self._queue.append(frame)
            if self._writing:
                return
            self._writing = True
        # This thread writes what is queued, including frames other threads add meanwhile.
        while True:
            with self._lock:
                if not self._queue or self._write_failed:
                    self._queue = []
                    self._writing = False
                    self._drained.notify_all()
                    return
                data = self._queue[0] if len(self._queue) == 1 else b"".join(self._queue)
                self._queue = []
            try:
                view = memoryview(data)
                while view:
                    written = os.write(self._output_fd, view)
                    view = view[written:]
            except OSError as error:
                with self._lock:
                    self._write_failed = True
                self._on_problem("write-failed", "cannot write to the host: %s" % error)

    def flush(self, timeout=2.0):
        """Waits until every queued frame is written (or writing failed)."""
        with self._lock:
            self._drained.wait_for(lambda: not self._writing and not self._queue, timeout)

    def close(self):
        """Stops reading, fails pending calls with TransportClosed and cancels running requests. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            pending = list(self._pending.items())
            self._pending.clear()
            running = list(self._running.values())
        for _, entry in pending:
            entry.error = RpcError(ErrorCodes.TransportClosed, "%s: the connection closed before the answer arrived" % entry.method)
            entry.set()
        for request in running:
            request.cancelled.set()
