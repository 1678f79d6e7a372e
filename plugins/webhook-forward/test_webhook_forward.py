"""Unit tests of webhook-forward's own logic: config checks, body rendering, one delivery against a real
local HTTP server (run by unit.test.ts: PYTHONPATH=plugin-kit/python python3 -m unittest test_webhook_forward)."""

import json
import threading
import unittest
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from flow_plugin.config import parse_config_text
from flow_plugin import ConfigError

import webhook_forward as wf

MESSAGE = {"id": 7, "appid": 2, "title": 'Disk "full"', "message": "line 1\nline 2", "priority": 8, "date": "2026-01-01T00:00:00Z", "extras": {"a": 1}}


class Receiver(BaseHTTPRequestHandler):
    statuses = []
    seen = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Receiver.seen.append((self.command, self.path, dict(self.headers), body))
        status = Receiver.statuses.pop(0) if Receiver.statuses else 200
        self.send_response(status)
        if 300 <= status < 400:
            self.send_header("Location", "/elsewhere")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    do_PUT = do_POST

    def log_message(self, *args):
        pass


class ConfigTest(unittest.TestCase):
    def test_default_config_parses_to_the_dataclass_defaults(self):
        document = parse_config_text(wf.DEFAULT_CONFIG)
        self.assertEqual(wf.Config(**document), wf.Config())

    def test_refusals_name_the_key(self):
        base = wf.Config(url="https://example.com/hook")
        wf.check_config(base)
        for change, reason in [
            ({"url": "ftp://example.com/"}, "url:"),
            ({"url": "https://"}, "url:"),
            ({"method": "GET"}, "method:"),
            ({"headers": {"Bad Name": "x"}}, "headers:"),
            ({"headers": {"X-A": "a\r\nb"}}, "headers:"),
            ({"headers": {"Content-Length": "1"}}, "headers: Content-Length is set by the plugin"),
            ({"retries": 11}, "retries:"),
            ({"backoff": 0}, "backoff:"),
            ({"timeout": 500}, "timeout:"),
            ({"template": "{{nope}}"}, "template: unknown placeholder {{nope}}"),
            ({"template": '{"t": {{title}}}'}, "template: with content_type application/json it must give JSON"),
        ]:
            with self.assertRaises(ConfigError) as caught:
                wf.check_config(replace(base, **change))
            self.assertIn(reason, str(caught.exception), change)
        # Not JSON: the template is taken as text.
        wf.check_config(replace(base, template="{{title}} {", content_type="text/plain"))


class RenderTest(unittest.TestCase):
    def test_default_body_is_the_message_as_json(self):
        self.assertEqual(json.loads(wf.render_body(wf.Config(), MESSAGE, "alice")), MESSAGE)

    def test_json_template_escapes_values(self):
        config = wf.Config(template='{"text": "{{title}}: {{message}}", "p": {{priority}}, "by": "{{user}}", "x": "{{extras}}"}')
        self.assertEqual(json.loads(wf.render_body(config, MESSAGE, 'al"ice')), {"text": 'Disk "full": line 1\nline 2', "p": 8, "by": 'al"ice', "x": '{"a": 1}'})

    def test_text_template_is_verbatim(self):
        config = wf.Config(template="{{title}} / {{message}}", content_type="text/plain")
        self.assertEqual(wf.render_body(config, MESSAGE, "alice"), 'Disk "full" / line 1\nline 2')


class DeliveryTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()
        cls.url = "http://127.0.0.1:%d/hook" % cls.server.server_address[1]

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()

    def setUp(self):
        Receiver.statuses[:] = []
        Receiver.seen[:] = []

    def test_success_sends_method_headers_and_body(self):
        config = wf.Config(url=self.url, method="PUT", headers={"X-Token": "abc"})
        self.assertEqual(wf.deliver_once(config, '{"a":1}'), (True, False, "HTTP 200"))
        method, path, headers, body = Receiver.seen[0]
        self.assertEqual((method, path, body), ("PUT", "/hook", b'{"a":1}'))
        self.assertEqual((headers["X-Token"], headers["Content-Type"]), ("abc", "application/json"))
        self.assertTrue(headers["User-Agent"].startswith("flow-webhook-forward/"))

    def test_which_failures_are_retried(self):
        config = wf.Config(url=self.url)
        for status, retryable in [(503, True), (429, True), (408, True), (400, False), (404, False), (302, False)]:
            Receiver.statuses.append(status)
            ok, again, detail = wf.deliver_once(config, "{}")
            self.assertEqual((ok, again), (False, retryable), status)
            self.assertTrue(detail.startswith("HTTP %d" % status), detail)

    def test_connection_refused_is_retried(self):
        closed = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        port = closed.server_address[1]
        closed.server_close()
        ok, again, detail = wf.deliver_once(wf.Config(url="http://127.0.0.1:%d/" % port, timeout=2), "{}")
        self.assertEqual((ok, again), (False, True))
        self.assertIn("refused", detail.lower())


if __name__ == "__main__":
    unittest.main()
