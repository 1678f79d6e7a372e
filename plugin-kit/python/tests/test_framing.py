import json
import unittest

from flow_plugin.errors import ErrorCodes
from flow_plugin.framing import FrameDecoder, check_message_shape, encode_frame


def frame(message, headers=b""):
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n%s\r\n%s" % (len(body), headers, body)


class Decoded:
    def __init__(self, max_frame_bytes=1024):
        self.messages = []
        self.errors = []
        self.decoder = FrameDecoder(self.messages.append, self.errors.append, max_frame_bytes)

    def push(self, *chunks):
        for chunk in chunks:
            self.decoder.push(chunk)
        return self


PING = {"jsonrpc": "2.0", "id": 7, "method": "ping", "params": {}}


class FrameDecoderTest(unittest.TestCase):
    def test_frames_split_anywhere_and_several_in_one_chunk(self):
        data = encode_frame(PING) + frame({"jsonrpc": "2.0", "id": 8, "method": "ping", "params": {"text": "héllo"}})
        for cut in range(1, len(data)):
            decoded = Decoded().push(data[:cut], data[cut:])
            self.assertEqual([m["id"] for m in decoded.messages], [7, 8], cut)
            self.assertEqual(decoded.errors, [])
        self.assertEqual(Decoded().push(*[bytes([b]) for b in data]).messages[1]["params"]["text"], "héllo")

    def test_length_counts_bytes_not_characters(self):
        message = {"jsonrpc": "2.0", "method": "x", "params": {"t": "€€€"}}
        self.assertEqual(Decoded().push(encode_frame(message)).messages, [message])

    def test_garbage_is_one_error_then_resync(self):
        decoded = Decoded().push(b"this is not a frame\nnor this\r\n" + encode_frame(PING))
        self.assertEqual(decoded.messages, [PING])
        self.assertEqual(len(decoded.errors), 1)
        self.assertFalse(decoded.errors[0].respond)

    def test_bare_lf_header_is_lost_whole(self):
        decoded = Decoded().push(b'Content-Length: 2\n\n{}' + encode_frame(PING))
        self.assertEqual(decoded.messages, [PING])
        self.assertTrue(decoded.errors)

    def test_marker_in_the_middle_of_a_line(self):
        decoded = Decoded().push(b"oops " + encode_frame(PING))
        self.assertEqual(decoded.messages, [PING])
        self.assertEqual(len(decoded.errors), 1)

    def test_marker_in_any_case_split_over_chunks(self):
        data = b"noise " + encode_frame(PING).replace(b"Content-Length", b"cOnTeNt-LeNgTh")
        decoded = Decoded().push(data[:10], data[10:])
        self.assertEqual(decoded.messages, [PING])

    def test_missing_and_bad_length(self):
        decoded = Decoded().push(b'X-Other: 1\r\n\r\n{"jsonrpc":"2.0"}' + encode_frame(PING))
        self.assertEqual(decoded.messages, [PING])
        decoded = Decoded().push(b'Content-Length: twelve\r\n\r\n{"jsonrpc":"2.0"}' + encode_frame(PING))
        self.assertEqual(decoded.messages, [PING])
        self.assertIn("not a byte count", decoded.errors[0].message)

    def test_foreign_charset_is_parse_error_with_null_id(self):
        decoded = Decoded().push(frame(PING, b"Content-Type: application/vscode-jsonrpc; charset=latin1\r\n") + encode_frame(PING))
        self.assertEqual(decoded.messages, [PING])
        self.assertEqual((decoded.errors[0].code, decoded.errors[0].respond, decoded.errors[0].id), (ErrorCodes.ParseError, True, None))

    def test_utf8_content_type_is_fine(self):
        decoded = Decoded().push(frame(PING, b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n"))
        self.assertEqual(decoded.messages, [PING])

    def test_oversized_request_is_skipped_and_answered_to_its_id(self):
        big = {"jsonrpc": "2.0", "id": 41, "method": "ping", "params": {"padding": "x" * 5000}}
        data = encode_frame(big) + encode_frame(PING)
        decoded = Decoded(1024).push(data[:100], data[100:3000], data[3000:])
        self.assertEqual(decoded.messages, [PING])
        error = decoded.errors[0]
        self.assertEqual((error.code, error.respond, error.id), (ErrorCodes.FrameTooLarge, True, 41))
        self.assertEqual(error.data["limitBytes"], 1024)

    def test_oversized_response_names_its_id_without_answering(self):
        decoded = Decoded(100).push(encode_frame({"jsonrpc": "2.0", "id": 3, "result": {"x": "y" * 500}}))
        self.assertEqual((decoded.errors[0].respond, decoded.errors[0].id), (False, 3))

    def test_not_json_and_half_frame(self):
        decoded = Decoded().push(b'Content-Length: 11\r\n\r\n{"jsonrpc":' + encode_frame(PING))
        self.assertEqual(decoded.messages, [PING])
        self.assertEqual(decoded.errors[0].code, ErrorCodes.ParseError)
        half = b'{"jsonrpc":"2.0"'
        nxt = encode_frame(PING)
        filler = encode_frame({"jsonrpc": "2.0", "id": 9, "method": "ping", "params": {}})
        decoded = Decoded().push(b"Content-Length: %d\r\n\r\n" % (len(half) + len(nxt) + 10) + half + nxt + filler)
        self.assertEqual(decoded.messages[0], PING)

    def test_partial_frame_at_end(self):
        decoded = Decoded().push(b'Content-Length: 60\r\n\r\n{"jsonrpc":"2.0"')
        self.assertTrue(decoded.decoder.has_partial_frame)
        self.assertFalse(Decoded().push(encode_frame(PING)).decoder.has_partial_frame)


class MessageShapeTest(unittest.TestCase):
    def test_shapes(self):
        self.assertIsNone(check_message_shape(PING))
        self.assertIsNone(check_message_shape({"jsonrpc": "2.0", "id": 0, "result": {}}))
        self.assertEqual(check_message_shape([1, 2]).code, ErrorCodes.InvalidRequest)
        no_version = check_message_shape({"id": 5, "method": "ping"})
        self.assertEqual((no_version.code, no_version.id), (ErrorCodes.InvalidRequest, 5))
        self.assertEqual(check_message_shape({"jsonrpc": "2.0", "id": 6, "method": 7}).id, 6)
        self.assertEqual(check_message_shape({"jsonrpc": "2.0", "id": None, "method": "ping"}).code, ErrorCodes.InvalidRequest)


if __name__ == "__main__":
    unittest.main()
