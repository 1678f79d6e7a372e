"""A host for the kit's tests: a Session on real pipes in this process, driven frame by frame."""

import os
import queue
import threading
import time

from flow_plugin.framing import FrameDecoder, encode_frame
from flow_plugin.serve import Session

LIMITS = {"maxFrameBytes": 8388608, "storageQuotaBytes": 4194304, "webhookBodyBytes": 1048576}


class TestHost:
    def __init__(self, plugin, versions=("1.1",), handshake=True, workers=None):
        to_plugin_r, self._to_plugin_w = os.pipe()
        self._from_plugin_r, from_plugin_w = os.pipe()
        self.session = Session(plugin, to_plugin_r, from_plugin_w, workers=workers)
        self.exit_code = None
        self.messages = queue.Queue()
        self.answers = {}
        self.calls = queue.Queue()
        self.notifications = []
        self._cond = threading.Condition()
        self._next_id = 0

        def serve():
            self.exit_code = self.session.run()
            os.close(from_plugin_w)
            os.close(to_plugin_r)

        self._serve = threading.Thread(target=serve, daemon=True)
        self._serve.start()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if handshake:
            result = self.request("initialize", {"protocolVersions": list(versions), "host": {"name": "test", "version": "0"}, "limits": LIMITS})
            assert "result" in result, result
            self.initialize_result = result["result"]
            self.notify("initialized", {})

    def _read(self):
        decoder = FrameDecoder(self._on_message, lambda error: self._on_message({"framing-error": error.message}))
        while True:
            chunk = os.read(self._from_plugin_r, 65536)
            if not chunk:
                return
            decoder.push(chunk)

    def _on_message(self, message):
        with self._cond:
            if "method" in message and "id" in message:
                self.calls.put(message)
            elif "method" in message:
                self.notifications.append(message)
            else:
                self.answers.setdefault(message.get("id"), []).append(message)
            self._cond.notify_all()

    def write(self, data):
        os.write(self._to_plugin_w, data)

    def send(self, message):
        self.write(encode_frame(message))

    def notify(self, method, params):
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def start_request(self, method, params, request_id=None):
        if request_id is None:
            request_id = self._next_id
            self._next_id += 1
        self.send({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        return request_id

    def answer_to(self, request_id, timeout=5.0):
        with self._cond:
            if not self._cond.wait_for(lambda: request_id in self.answers, timeout):
                raise AssertionError("no answer to %r within %ss" % (request_id, timeout))
            return self.answers[request_id][0]

    def request(self, method, params, timeout=5.0):
        return self.answer_to(self.start_request(method, params), timeout)

    def next_call(self, timeout=5.0):
        return self.calls.get(timeout=timeout)

    def reply(self, call, result=None, error=None):
        message = {"jsonrpc": "2.0", "id": call["id"]}
        if error is not None:
            message["error"] = error
        else:
            message["result"] = result if result is not None else {}
        self.send(message)

    def wait_for(self, predicate, timeout=5.0):
        """Waits for `predicate`, re-checked on each message from the plugin and every 10 ms (it may
        watch the session's own state, which sends nothing)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("condition not met within %ss" % timeout)
                self._cond.wait(min(left, 0.01))

    def close_input(self, timeout=5.0):
        os.close(self._to_plugin_w)
        self._serve.join(timeout)
        return self.exit_code

    def create(self, instance_id="1", user=None):
        return self.request("instance/create", {"instanceId": instance_id, "user": user or {"id": 1, "name": "alice", "admin": False}, "webhookBasePath": "/plugin/1/custom/Ptok/"})
