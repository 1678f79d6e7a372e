import base64
import threading
import unittest
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from flow_plugin import ConfigError, ErrorCodes, Plugin, PluginInstance, RpcError, WebhookReply
from flow_plugin.config import parse_config_text, render_yaml
from flow_plugin.errors import Cancelled

from .host import TestHost


@dataclass
class Feed:
    url: str
    every: int = 60


@dataclass
class Config:
    greeting: str = "hello"
    count: int = 3
    ratio: float = 0.5
    tags: List[str] = field(default_factory=lambda: ["a", "b"])
    labels: Dict[str, str] = field(default_factory=dict)
    feeds: List[Feed] = field(default_factory=list)
    note: Optional[str] = None


received = []


class Kit(PluginInstance):
    def __init__(self, ctx):
        super().__init__(ctx)
        self.config = Config()
        self.release = threading.Event()

    def default_config(self):
        return Config()

    def validate_and_set_config(self, config):
        if not config.greeting:
            raise ConfigError("greeting must not be empty")
        self.config = config

    def enable(self):
        if self.config.greeting == "refuse":
            raise ValueError("refused: greeting is refuse")

    def get_display(self, location):
        return "at %s" % location.webhook_url

    def handle_webhook(self, request, call):
        if request.path == "/kv":
            return {"body": {"value": self.ctx.kv.get("k")}}
        if request.path == "/list":
            return {"body": self.ctx.kv.list("p:")}
        if request.path == "/increment":
            return {"body": self.ctx.kv.increment("n", 2)}
        if request.path == "/slow":
            cancelled = call.wait(5)
            return {"body": {"cancelled": cancelled}}
        if request.path == "/send":
            return {"body": self.ctx.send("hi", title="T", priority=3)}
        if request.path == "/log":
            self.ctx.log.info("logged", n=1)
            return None
        if request.path == "/bytes":
            return WebhookReply(201, {"x-a": ["1", "2"]}, b"\x00\xff")
        if request.path == "/raise":
            raise RuntimeError("boom for the user")
        if request.path == "/check":
            call.check()
        return {"body": {"method": request.method, "query": request.query, "text": request.text(), "config": self.config.greeting}}

    def on_message(self, message):
        received.append((self.ctx.instance_id, message.id, message.title))


PLUGIN = Plugin(
    {"modulePath": "example.com/kit-test", "name": "kit test"},
    Kit,
    uses=["messenger", "storager"],
    config_schema={"type": "object"},
    secret_keys=["labels"],
)


def webhook(path, method="GET", body=b"", query=""):
    return {"instanceId": "1", "method": method, "path": path, "query": query, "headers": {}, "body": base64.b64encode(body).decode()}


class HandshakeTest(unittest.TestCase):
    def test_negotiates_and_sends_the_schema_on_1_1_only(self):
        host = TestHost(PLUGIN, versions=["1.3"])
        self.assertEqual(host.initialize_result["protocolVersion"], "1.1")
        self.assertEqual(host.initialize_result["configSchema"], {"type": "object"})
        self.assertEqual(host.initialize_result["capabilities"], ["configurer", "displayer", "messenger", "storager", "webhooker", "subscriber"])
        old = TestHost(PLUGIN, versions=["1.0"])
        self.assertEqual(old.initialize_result["protocolVersion"], "1.0")
        self.assertNotIn("configSchema", old.initialize_result)

    def test_incompatible_version_and_early_requests(self):
        host = TestHost(PLUGIN, handshake=False)
        self.assertEqual(host.request("ping", {})["error"]["code"], ErrorCodes.NotInitialized)
        answer = host.request("initialize", {"protocolVersions": ["2.0"], "host": {"name": "h", "version": "1"}, "limits": {"maxFrameBytes": 1, "storageQuotaBytes": 1, "webhookBodyBytes": 1}})
        self.assertEqual(answer["error"]["code"], ErrorCodes.IncompatibleVersion)
        self.assertEqual(answer["error"]["data"], {"hostVersions": ["2.0"], "pluginVersions": ["1.1"]})
        # Still uninitialized: a later initialize is handled as the first.
        answer = host.request("initialize", {"protocolVersions": ["1.1"], "host": {"name": "h", "version": "1"}, "limits": {"maxFrameBytes": 100000, "storageQuotaBytes": 1, "webhookBodyBytes": 1}})
        self.assertIn("result", answer)
        self.assertEqual(host.request("initialize", answer and {"protocolVersions": ["1.1"], "host": {"name": "h", "version": "1"}, "limits": {"maxFrameBytes": 1, "storageQuotaBytes": 1, "webhookBodyBytes": 1}})["error"]["code"], ErrorCodes.InvalidRequest)

    def test_errors_of_section_2_5_and_10(self):
        host = TestHost(PLUGIN)
        self.assertEqual(host.request("nope", {})["error"]["code"], ErrorCodes.MethodNotFound)
        self.assertEqual(host.request("instance/enable", {"instanceId": "9"})["error"]["code"], ErrorCodes.UnknownInstance)
        bad = host.request("instance/create", {"instanceId": 5, "user": "alice"})["error"]
        self.assertEqual(bad["code"], ErrorCodes.InvalidParams)
        self.assertEqual([issue["path"] for issue in bad["data"]["issues"]], [["instanceId"], ["user"], ["webhookBasePath"]])
        host.create("1")
        duplicate = host.create("1")["error"]
        self.assertEqual(duplicate["data"]["issues"], [{"path": ["instanceId"], "message": 'instance "1" already exists'}])
        host.write(b"garbage\r\n")
        self.assertEqual(host.request("ping", {}), {"jsonrpc": "2.0", "id": host._next_id - 1, "result": {}})


class ServeTest(unittest.TestCase):
    def setUp(self):
        self.host = TestHost(PLUGIN)
        self.host.create("1")

    def test_webhook_request_and_reply(self):
        answer = self.host.request("webhook/request", webhook("/x", "POST", b"body", "a=1&a=2&b="))["result"]
        self.assertEqual(answer["status"], 200)
        self.assertEqual(answer["headers"], {"content-type": "application/json"})
        self.assertIn(b'"query": {"a": ["1", "2"], "b": [""]}', base64.b64decode(answer["body"]))
        raw = self.host.request("webhook/request", webhook("/bytes"))["result"]
        self.assertEqual(raw, {"status": 201, "headers": {"x-a": ["1", "2"], "content-type": "application/octet-stream"}, "body": "AP8="})
        failed = self.host.request("webhook/request", webhook("/raise"))["error"]
        self.assertEqual((failed["code"], failed["message"]), (ErrorCodes.PluginError, "boom for the user"))
        self.assertEqual(self.host.request("webhook/request", webhook("/log"))["result"], {"status": 200})
        self.host.wait_for(lambda: any(n["method"] == "log/write" for n in self.host.notifications))
        log = [n for n in self.host.notifications if n["method"] == "log/write"][0]["params"]
        self.assertEqual(log, {"level": "info", "message": "logged", "instanceId": "1", "fields": {"n": 1}})

    def test_nested_host_call_while_pings_are_answered(self):
        request_id = self.host.start_request("webhook/request", webhook("/kv"))
        call = self.host.next_call()
        self.assertEqual((call["method"], call["params"]), ("kv/get", {"key": "k", "instanceId": "1"}))
        # The reader never blocks: pings are answered while the handler waits for the host.
        for _ in range(3):
            self.assertIn("result", self.host.request("ping", {}))
        self.host.reply(call, {"value": "v"})
        self.assertEqual(base64.b64decode(self.host.answer_to(request_id)["result"]["body"]), b'{"value": "v"}')

    def test_host_call_errors_and_send(self):
        request_id = self.host.start_request("webhook/request", webhook("/send"))
        call = self.host.next_call()
        self.assertEqual(call["params"], {"message": "hi", "title": "T", "priority": 3, "instanceId": "1"})
        self.host.reply(call, error={"code": ErrorCodes.QuotaExceeded, "message": "over", "data": {"limitBytes": 1, "usedBytes": 1}})
        answer = self.host.answer_to(request_id)["error"]
        self.assertEqual((answer["code"], answer["message"]), (ErrorCodes.QuotaExceeded, "over"))

    def test_kv_list_reads_every_page_on_1_1(self):
        request_id = self.host.start_request("webhook/request", webhook("/list"))
        first = self.host.next_call()
        self.assertEqual(first["params"], {"prefix": "p:", "instanceId": "1"})
        self.host.reply(first, {"keys": ["p:a", "p:b"], "nextCursor": "p:b"})
        second = self.host.next_call()
        self.assertEqual(second["params"], {"prefix": "p:", "cursor": "p:b", "instanceId": "1"})
        self.host.reply(second, {"keys": ["p:c"]})
        self.assertEqual(base64.b64decode(self.host.answer_to(request_id)["result"]["body"]), b'["p:a", "p:b", "p:c"]')
        request_id = self.host.start_request("webhook/request", webhook("/increment"))
        call = self.host.next_call()
        self.assertEqual((call["method"], call["params"]["delta"]), ("kv/increment", 2))
        self.host.reply(call, {"value": 42})
        self.assertEqual(base64.b64decode(self.host.answer_to(request_id)["result"]["body"]), b"42")

    def test_cancellation_answers_once(self):
        request_id = self.host.start_request("webhook/request", webhook("/slow"))
        self.host.notify("$/cancelRequest", {"id": request_id})
        answer = self.host.answer_to(request_id)
        self.assertEqual(answer["error"]["code"], ErrorCodes.RequestCancelled)
        self.assertIn("result", self.host.request("ping", {}))
        self.host.wait_for(lambda: self.host.session._busy == 0)
        self.assertEqual(len(self.host.answers[request_id]), 1)

    def test_config_value_merge_and_types(self):
        default = self.host.request("config/default", {"instanceId": "1"})["result"]
        self.assertEqual(default["secretKeys"], ["labels"])
        self.assertEqual(parse_config_text(default["config"]), {"greeting": "hello", "count": 3, "ratio": 0.5, "tags": ["a", "b"], "labels": {}, "feeds": [], "note": None})
        ok = self.host.request("config/validateAndSet", {"instanceId": "1", "config": "", "value": {"greeting": "hi", "feeds": [{"url": "u"}], "unknown": 1}})
        self.assertEqual(ok["result"], {})
        instance = self.host.session.instances["1"].instance
        self.assertEqual((instance.config.greeting, instance.config.count, instance.config.feeds), ("hi", 3, [Feed("u", 60)]))
        wrong = self.host.request("config/validateAndSet", {"instanceId": "1", "config": "", "value": {"feeds": [{"url": 5}]}})["error"]
        self.assertEqual((wrong["code"], wrong["message"]), (ErrorCodes.InvalidConfig, "feeds[0].url: expected a string, got a number"))
        refused = self.host.request("config/validateAndSet", {"instanceId": "1", "config": "", "value": {"greeting": ""}})["error"]
        self.assertEqual((refused["code"], refused["message"]), (ErrorCodes.InvalidConfig, "greeting must not be empty"))
        self.assertEqual(instance.config.greeting, "hi")

    def test_enable_refusal_reaches_the_user_and_display(self):
        self.host.request("config/validateAndSet", {"instanceId": "1", "config": "", "value": {"greeting": "refuse"}})
        refused = self.host.request("instance/enable", {"instanceId": "1"})["error"]
        self.assertEqual((refused["code"], refused["message"]), (ErrorCodes.PluginError, "refused: greeting is refuse"))
        display = self.host.request("display/get", {"instanceId": "1", "location": {"scheme": "https", "host": "h", "webhookBasePath": "/p/"}})
        self.assertEqual(display["result"], {"markdown": "at https://h/p/"})

    def test_messages_in_order_and_only_while_enabled(self):
        del received[:]
        message = {"instanceId": "1", "message": {"id": 1, "appid": 2, "message": "m", "title": "t1", "priority": 5, "date": "2026-01-01T00:00:00Z"}}
        self.host.notify("message/received", message)
        self.host.request("instance/enable", {"instanceId": "1"})
        for n in range(2, 30):
            self.host.notify("message/received", dict(message, message=dict(message["message"], id=n, title="t%d" % n)))
        self.host.wait_for(lambda: self.host.session._busy == 0 and len(received) == 29, 10)
        self.assertEqual([item[1] for item in received], list(range(1, 30)))

    def test_shutdown_waits_for_calls_in_flight_then_refuses(self):
        request_id = self.host.start_request("webhook/request", webhook("/kv"))
        call = self.host.next_call()
        shutdown_id = self.host.start_request("shutdown", {})
        self.assertEqual(self.host.request("ping", {})["error"]["code"], ErrorCodes.ShuttingDown)
        # Host calls still work until shutdown is answered.
        self.host.reply(call, {"value": None})
        self.assertIn("result", self.host.answer_to(request_id))
        self.assertEqual(self.host.answer_to(shutdown_id)["result"], {})
        self.host.notify("exit", {})
        self.host._serve.join(5)
        self.assertEqual(self.host.exit_code, 0)

    def test_eof_without_shutdown_exits_1_and_fails_pending_calls(self):
        request_id = self.host.start_request("webhook/request", webhook("/kv"))
        self.host.next_call()
        self.assertEqual(self.host.close_input(), 1)
        self.assertIsNotNone(request_id)


class OneDotZeroHostTest(unittest.TestCase):
    def test_yaml_text_is_read_and_1_1_methods_refused(self):
        host = TestHost(PLUGIN, versions=["1.0"])
        host.create("1")
        text = host.request("config/default", {"instanceId": "1"})["result"]["config"]
        crlf = "# a comment\r\n" + text.replace("\n", "\r\n") + "# trailing\r\n"
        self.assertEqual(host.request("config/validateAndSet", {"instanceId": "1", "config": crlf})["result"], {})
        self.assertEqual(host.request("config/validateAndSet", {"instanceId": "1", "config": "greeting: hey\ncount: 0x10\n"})["result"], {})
        self.assertEqual(host.session.instances["1"].instance.config.count, 16)
        broken = host.request("config/validateAndSet", {"instanceId": "1", "config": "broken: [unclosed\n"})["error"]
        self.assertEqual(broken["code"], ErrorCodes.InvalidConfig)
        listed = host.start_request("webhook/request", webhook("/list"))
        call = host.next_call()
        host.reply(call, {"keys": ["p:a"], "nextCursor": "ignored on 1.0"})
        self.assertEqual(base64.b64decode(host.answer_to(listed)["result"]["body"]), b'["p:a"]')
        refused = host.request("webhook/request", webhook("/increment"))["error"]
        self.assertEqual(refused["code"], ErrorCodes.MethodNotFound)


class DefinitionTest(unittest.TestCase):
    def test_capabilities_and_mistakes(self):
        class Half(PluginInstance):
            def default_config(self):
                return {}

        with self.assertRaisesRegex(TypeError, "a configurer needs both"):
            Plugin({"modulePath": "x"}, Half)
        with self.assertRaisesRegex(TypeError, "modulePath"):
            Plugin({"name": "x"}, Kit)
        with self.assertRaisesRegex(TypeError, "not a host service"):
            Plugin({"modulePath": "x"}, Kit, uses=["webhooker"])

        class Bare(PluginInstance):
            pass

        self.assertEqual(Plugin({"modulePath": "x"}, Bare).capabilities, [])

    def test_render_yaml_reads_back(self):
        value = {"a": "yes", "b": "1.0", "c": "", "d": [{"x": 1, "y": [1, 2]}, "z"], "e": {"f": None, "g": True}, "h": "x: y", "i": [], "j": "plain text"}
        text = render_yaml(value)
        self.assertEqual(parse_config_text(text), value)
        self.assertIn('a: "yes"', text)
        self.assertIn("j: plain text", text)

    def test_cancelled_error(self):
        self.assertTrue(issubclass(Cancelled, Exception))
        self.assertEqual(RpcError(1, "m").to_json(), {"code": 1, "message": "m"})


if __name__ == "__main__":
    unittest.main()
