"""Unit tests of the alarm plugin's own logic: YAML subset, configuration, checks, state changes
and framing. Run with `python3 -m unittest discover -s plugins/alarm -p 'test_*.py'`; vitest runs
them too (alarm.test.ts), next to the protocol tests that drive the executable."""

import io
import json
import os
import socket
import sys
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import alarm  # noqa: E402

FAST = {"FLOW_ALARM_MIN_INTERVAL": "10ms"}


class YamlSubsetTest(unittest.TestCase):
    def test_default_config_parses_to_the_documented_values(self):
        self.assertEqual(
            alarm.parse_yaml(alarm.DEFAULT_CONFIG),
            {"checks": [], "interval": "60s", "timeout": "10s", "alarm_priority": 8, "recovery_priority": 4},
        )

    def test_nested_lists_of_mappings_with_comments_and_quotes(self):
        text = """
# a comment
checks:
  - name: "web # not a comment"
    url: https://example.com/a#frag   # comment
    expect_status: 204
  - name: 'it''s db'
    tcp: db:5432
  -
    name: third
    tcp: "[::1]:22"
interval: 1.5
flags: [1, "two", true]
empty: {}
nothing:
"""
        self.assertEqual(
            alarm.parse_yaml(text),
            {
                "checks": [
                    {"name": "web # not a comment", "url": "https://example.com/a#frag", "expect_status": 204},
                    {"name": "it's db", "tcp": "db:5432"},
                    {"name": "third", "tcp": "[::1]:22"},
                ],
                "interval": 1.5,
                "flags": [1, "two", True],
                "empty": {},
                "nothing": None,
            },
        )

    def test_list_at_the_same_indentation_as_its_key(self):
        self.assertEqual(alarm.parse_yaml("checks:\n- tcp: a:1\n- tcp: b:2\nx: 1\n"), {"checks": [{"tcp": "a:1"}, {"tcp": "b:2"}], "x": 1})

    def test_json_documents_are_yaml_too(self):
        self.assertEqual(alarm.parse_yaml('{"checks": [{"tcp": "a:1"}]}'), {"checks": [{"tcp": "a:1"}]})

    def test_rejections_name_the_line(self):
        cases = {
            "a: 1\n  b: 2\n": "line 2: unexpected indentation",
            "a: 1\na: 2\n": "line 2: duplicate key 'a'",
            "a:\n\tb: 1\n": "line 2: indent with spaces, not tabs",
            "a: |\n  text\n": "line 1: block scalars (| and >) are not supported; use a quoted string",
            "a: &x 1\n": "line 1: anchors, aliases and tags are not supported",
            "a: b: c\n": "line 1: quote values that contain ': '",
            "a: 'open\n": "line 1: unterminated or trailing text after a quoted string",
            "a: [b, {c\n": "line 1: flow collections must be JSON, e.g. [\"a\", \"b\"]",
            "just text\nmore: 1\n": "line 1: expected 'key: value'",
            "a: 1\n- b\n": "line 2: a list item where a 'key: value' was expected",
        }
        for text, reason in cases.items():
            with self.subTest(text=text):
                with self.assertRaises(alarm.ConfigError) as caught:
                    alarm.parse_yaml(text)
                self.assertEqual(str(caught.exception), reason)


class ConfigTest(unittest.TestCase):
    def test_defaults_and_normalised_checks(self):
        config = alarm.load_config("checks:\n  - url: http://127.0.0.1:8080/health\n  - name: db\n    tcp: localhost:5432\n    timeout: 2s\n", {})
        self.assertEqual(config["interval"], 60)
        self.assertEqual(config["timeout"], 10)
        self.assertEqual([(c["kind"], c["name"], c["timeout"]) for c in config["checks"]], [("http", "http://127.0.0.1:8080/health", 10), ("tcp", "db", 2)])
        self.assertEqual((config["checks"][1]["host"], config["checks"][1]["port"]), ("localhost", 5432))
        self.assertTrue(config["checks"][0]["key"].startswith("check:"))

    def test_empty_text_is_the_default_config(self):
        self.assertEqual(alarm.load_config("", {})["checks"], [])

    def test_invalid_values_are_rejected_with_a_short_reason(self):
        cases = {
            "checks:\n  - url: ftp://x/\n": "checks[0].url: only http and https URLs are allowed",
            "checks:\n  - url: http://\n": "checks[0].url: the URL has no host",
            "checks:\n  - tcp: nohost\n": "checks[0].tcp: must be host:port (IPv6 as [addr]:port)",
            "checks:\n  - tcp: h:70000\n": "checks[0].tcp: port must be between 1 and 65535",
            "checks:\n  - name: x\n": "checks[0]: set exactly one of url and tcp",
            "checks:\n  - url: http://a/\n    tcp: a:1\n": "checks[0]: set exactly one of url and tcp",
            "checks:\n  - tcp: a:1\n    expect_status: 200\n": "checks[0].expect_status: only for url checks",
            "checks:\n  - url: http://a/\n    expect_status: 99\n": "checks[0].expect_status: must be between 100 and 599",
            "checks:\n  - {name: a, tcp: a:1}\n": "line 2: flow collections must be JSON, e.g. [\"a\", \"b\"]",
            "checks:\n  - name: a\n    tcp: a:1\n  - name: a\n    tcp: b:1\n": "checks[1].name: 'a' is already used by checks[0]",
            "checks: http://a/\n": "checks: must be a list",
            "interval: 1s\n": "interval: must be at least 10s",
            "interval: soon\n": "interval: not a duration (use e.g. 30s, 5m)",
            "alarm_priority: high\n": "alarm_priority: must be a whole number",
            "recovery_priority: 11\n": "recovery_priority: must be between 0 and 10",
            "- a\n": "the configuration must be a mapping of keys to values",
            # urlsplit raises on an unclosed IPv6 bracket: a reason, not an internal error.
            "checks:\n  - url: http://[::1/health\n": "checks[0].url: not a valid URL (Invalid IPv6 URL)",
            "checks:\n  - url: \"http://status page.example/\"\n": "checks[0].url: must not contain spaces or control characters (percent-encode them)",
        }
        for text, reason in cases.items():
            with self.subTest(text=text):
                with self.assertRaises(alarm.ConfigError) as caught:
                    alarm.load_config(text, {})
                self.assertEqual(str(caught.exception), reason)

    def test_the_minimum_interval_can_be_lowered_by_the_administrator(self):
        self.assertEqual(alarm.load_config("interval: 200ms\n", FAST)["interval"], 0.2)


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's naming
        if self.path == "/slow":
            time.sleep(1.5)
        status = {"/ok": 200, "/fail": 503, "/nocontent": 204, "/redirect": 302, "/slow": 200, "/loop": 302, "/nowhere": 301}.get(self.path, 404)
        self.send_response(status)
        if self.path == "/redirect":
            self.send_header("Location", "/ok")
        if self.path == "/loop":
            self.send_header("Location", "/loop")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class ChecksTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        cls.base = f"http://127.0.0.1:{cls.server.server_address[1]}"
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()

    def http(self, path, **extra):
        return dict({"kind": "http", "url": self.base + path, "timeout": 1.0, "key": path, "name": path}, **extra)

    def test_http_status_below_400_passes(self):
        self.assertEqual(alarm.check_http(self.http("/ok")), (True, "HTTP 200 OK"))
        self.assertEqual(alarm.check_http(self.http("/redirect")), (True, "HTTP 200 OK"))
        self.assertEqual(alarm.check_http(self.http("/fail")), (False, "HTTP 503 Service Unavailable"))
        self.assertEqual(alarm.check_http(self.http("/missing")), (False, "HTTP 404 Not Found"))

    def test_http_redirect_that_cannot_be_followed_fails(self):
        # A redirect loop is an outage for every browser; urllib stops following and raises the 302.
        self.assertEqual(alarm.check_http(self.http("/loop")), (False, "HTTP 302 Found (redirect loop)"))
        self.assertEqual(alarm.check_http(self.http("/nowhere")), (False, "HTTP 301 Moved Permanently (redirect not followed)"))
        self.assertEqual(alarm.check_http(self.http("/loop", expect_status=200)), (False, "HTTP 302 Found (redirect loop)"))
        self.assertEqual(alarm.check_http(self.http("/loop", expect_status=302)), (True, "HTTP 302 Found"))

    def test_http_expected_status_must_match_exactly(self):
        self.assertEqual(alarm.check_http(self.http("/nocontent", expect_status=204)), (True, "HTTP 204 No Content"))
        self.assertEqual(alarm.check_http(self.http("/ok", expect_status=204)), (False, "HTTP 200 OK (expected 204)"))
        self.assertEqual(alarm.check_http(self.http("/redirect", expect_status=302)), (True, "HTTP 302 Found"))

    def test_http_timeout_and_refused(self):
        self.assertEqual(alarm.check_http(self.http("/slow", timeout=0.3)), (False, "timed out after 300ms"))
        port = _free_port()
        self.assertEqual(alarm.check_http({"kind": "http", "url": f"http://127.0.0.1:{port}/", "timeout": 1.0}), (False, "connection refused"))

    def test_tcp(self):
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        try:
            self.assertEqual(alarm.check_tcp({"host": "127.0.0.1", "port": port, "timeout": 1.0}), (True, "connected"))
        finally:
            listener.close()
        self.assertEqual(alarm.check_tcp({"host": "127.0.0.1", "port": port, "timeout": 1.0}), (False, "connection refused"))

    def test_a_round_runs_checks_concurrently_and_bounds_stuck_ones(self):
        release = threading.Event()

        def runner(check):
            if check["name"] == "stuck":
                release.wait(10)
            return True, "ok"

        checks = [{"key": "a", "name": "a", "timeout": 0.2}, {"key": "stuck", "name": "stuck", "timeout": 0.2}]
        busy = set()
        results = alarm.run_round(checks, runner, busy)
        self.assertEqual(results, {"a": (True, "ok"), "stuck": (False, "timed out after 200ms")})
        self.assertEqual(busy, {"stuck"})
        # Still stuck: the next round does not start a second thread for it.
        self.assertEqual(alarm.run_round(checks, runner, busy)["stuck"], (False, "timed out after 200ms"))
        release.set()


    def test_a_round_ends_early_when_stopped(self):
        release = threading.Event()
        stop = threading.Event()
        checks = [{"key": "slow", "name": "slow", "timeout": 30.0}]
        busy = set()
        threading.Timer(0.1, stop.set).start()
        results = alarm.run_round(checks, lambda c: (release.wait(10), (True, "ok"))[1], busy, stop)
        # The check is still blocked: the round did not wait for it (only 2 s after the stop).
        self.assertEqual(busy, {"slow"})
        self.assertFalse(results["slow"][0])
        release.set()


class TransitionTest(unittest.TestCase):
    config = {"alarm_priority": 8, "recovery_priority": 4}
    check = {"kind": "tcp", "name": "db", "target": "db:5432"}

    def test_only_changes_make_messages(self):
        now = "2026-11-24T14:00:00Z"
        self.assertIsNone(alarm.transition_message(self.check, True, "connected", None, self.config, now))
        self.assertIsNone(alarm.transition_message(self.check, True, "connected", {"state": "up"}, self.config, now))
        self.assertIsNone(alarm.transition_message(self.check, False, "refused", {"state": "down"}, self.config, now))
        down = alarm.transition_message(self.check, False, "connection refused", {"state": "up"}, self.config, now)
        self.assertEqual(down["title"], "DOWN: db")
        self.assertEqual(down["priority"], 8)
        self.assertEqual(down["message"], "TCP db:5432 failed: connection refused.\nSince 2026-11-24 14:00:00 UTC.")
        first_seen_down = alarm.transition_message(self.check, False, "connection refused", None, self.config, now)
        self.assertEqual(first_seen_down["title"], "DOWN: db")
        up = alarm.transition_message(self.check, True, "connected", {"state": "down", "since": "2026-11-24T13:58:30Z"}, self.config, now)
        self.assertEqual((up["title"], up["priority"]), ("UP: db", 4))
        self.assertEqual(up["message"], "TCP db:5432 passes again (connected) after 1m30s down.\nDown since 2026-11-24 13:58:30 UTC.")


class DisplayTest(unittest.TestCase):
    def test_user_text_and_targets_are_literal_text(self):
        config = alarm.load_config("checks:\n  - name: \"*web* [x](y)\"\n    url: https://example.com/health\n", {})
        shown = alarm.render_display(config, {}, True)
        row = shown.splitlines()[-1]
        # No character a markdown renderer could act on is left bare, so no autolink, link or emphasis.
        self.assertEqual(row.split(" | ")[0], "| \\*web\\* \\[x\\]\\(y\\)")
        self.assertIn("https\\:\\/\\/example\\.com\\/health", row)


class FramingTest(unittest.TestCase):
    def read_all(self, data, max_frame=alarm.DEFAULT_MAX_FRAME_BYTES):
        messages, replies = [], []
        reader = alarm.FrameReader(io.BufferedReader(io.BytesIO(data)), messages.append, replies.append)
        reader.max_frame_bytes = max_frame
        reader.run()
        return messages, replies

    def frame(self, obj):
        return alarm.encode_frame(obj)

    def test_frames_back_to_back_and_split_utf8(self):
        a = {"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {}}
        b = {"jsonrpc": "2.0", "method": "log", "params": {"text": "h\u00e9llo \u2603"}}
        messages, replies = self.read_all(self.frame(a) + self.frame(b))
        self.assertEqual((messages, replies), ([a, b], []))

    def test_garbage_is_skipped_to_the_next_header(self):
        a = {"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {}}
        data = b"stray output\n" + self.frame(a) + b"more junk without newline" + self.frame(a)
        messages, _ = self.read_all(data)
        self.assertEqual(messages, [a, a])

    def test_header_without_length_is_skipped(self):
        a = {"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {}}
        messages, _ = self.read_all(b"Content-Type: x\r\n\r\n{}" + self.frame(a))
        self.assertEqual(messages, [a])

    def test_bad_bodies_get_the_spec_answers(self):
        bad_json = b"Content-Length: 3\r\n\r\n{x}"
        not_rpc = self.frame([1, 2])
        no_version = self.frame({"id": 7, "method": "ping"})
        latin1 = b"Content-Length: 2\r\nContent-Type: application/vscode-jsonrpc; charset=latin1\r\n\r\n{}"
        _, replies = self.read_all(bad_json + not_rpc + no_version + latin1)
        self.assertEqual([(r["id"], r["error"]["code"]) for r in replies], [(None, -32700), (None, -32600), (7, -32600), (None, -32700)])

    def test_oversized_request_is_skipped_and_answered(self):
        big = self.frame({"jsonrpc": "2.0", "id": 41, "method": "kv/set", "params": {"value": "x" * 5000}})
        after = {"jsonrpc": "2.0", "id": 42, "method": "ping", "params": {}}
        messages, replies = self.read_all(big + self.frame(after), max_frame=1000)
        self.assertEqual(messages, [after])
        self.assertEqual(replies[0]["id"], 41)
        self.assertEqual(replies[0]["error"]["code"], 1010)
        self.assertEqual(replies[0]["error"]["data"]["limitBytes"], 1000)

    def test_eof_inside_a_frame_ends_reading(self):
        messages, _ = self.read_all(b"Content-Length: 100\r\n\r\n{\"jsonrpc\"")
        self.assertEqual(messages, [])


class NegotiateTest(unittest.TestCase):
    def test_highest_common_minor_of_a_known_major(self):
        self.assertEqual(alarm.negotiate(["1.3"], ["1.0"]), "1.0")
        self.assertEqual(alarm.negotiate(["2.0", "1.2"], ["1.0"]), "1.0")
        self.assertIsNone(alarm.negotiate(["2.0"], ["1.0"]))


def _free_port():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


if __name__ == "__main__":
    unittest.main()
