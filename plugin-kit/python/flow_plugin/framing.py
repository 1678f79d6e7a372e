"""Content-Length framing (spec/protocol.md sections 2.2, 2.3 and 2.5), written for a peer that misbehaves.

Nothing here raises on bad input: every problem becomes one `FramingError` passed to `on_error`, and
decoding goes on at the next frame, by the resynchronisation rules of section 2.5:

- bytes that cannot start a header (stray output, a header line ended by a bare LF, an empty line) are one
  error per run; decoding resumes at the next ``Content-Length:`` in any letter case, searched from the
  byte after the first bad one, also in the middle of a line;
- a header block without a valid Content-Length: one error, resume after the offending line;
- a Content-Length over the limit: the body is skipped unread (its first 512 bytes are kept to find the
  request id, which gets FrameTooLarge);
- a body that is not JSON: ParseError with id null, and decoding resumes at a ``Content-Length:`` inside
  that body when there is one (a half frame swallowed the start of the next).
"""

import json
import re

from .errors import ErrorCodes

DEFAULT_MAX_FRAME_BYTES = 8 * 1024 * 1024
_MAX_HEADER_BYTES = 4096
_ID_SNIFF_BYTES = 512
_MARKER = b"content-length:"
_COMMON_HEADER = re.compile(rb"Content-Length: (\d{1,15})\r\n\r\n")
_HEADER_LINE = re.compile(r"^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$")
_TOKEN = re.compile(rb"^[!#$%&'*+.^_`|~0-9A-Za-z-]*$")
_CHARSET = re.compile(r"charset\s*=\s*\"?([^\";\s]+)", re.I)
_REQUEST_HINT = re.compile(r"\"method\"\s*:")
_SNIFF_ID = re.compile(r"\"id\"\s*:\s*(-?\d{1,15}|\"(?:[^\"\\]|\\.){0,200}\")")
_SNIFF_RESPONSE_ID = re.compile(
    r"^\s*\{\s*(?:\"jsonrpc\"\s*:\s*\"2\.0\"\s*,\s*)?\"id\"\s*:\s*(-?\d{1,15}|\"(?:[^\"\\]|\\.){0,200}\")\s*,\s*\"(?:result|error)\"\s*:"
)


class FramingError:
    """One decoding problem. `respond`: the receiver answers `code` to `id` (None is JSON null)."""

    __slots__ = ("message", "code", "respond", "id", "data")

    def __init__(self, message, code, respond, id=None, data=None):
        self.message = message
        self.code = code
        self.respond = respond
        self.id = id
        self.data = data

    def to_response(self):
        error = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return {"jsonrpc": "2.0", "id": self.id, "error": error}


def encode_frame(message):
    """One message as a complete frame: header and UTF-8 body in one bytes object."""
    body = json.dumps(message, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def _find_marker(buffer, start):
    """Index of the next `content-length:` in any case at or after `start`, or -1."""
    index = bytes(buffer[start:]).lower().find(_MARKER)
    return index + start if index >= 0 else -1


def _plausible_partial_line(buffer, line_start, header_start):
    """Whether the bytes from `line_start` on can still become a header line once more bytes come."""
    if len(buffer) - header_start > _MAX_HEADER_BYTES:
        return False
    rest = bytes(buffer[line_start:])
    if b"\n" in rest:
        return False
    end = len(rest) - 1 if rest.endswith(b"\r") else len(rest)
    cr = rest.find(b"\r")
    if 0 <= cr < end:
        return False
    colon = rest.find(b":")
    name = rest[: (end if colon < 0 else colon)]
    return _TOKEN.match(name) is not None


def _sniff(regex, head):
    match = regex.search(head)
    if not match:
        return None
    try:
        return json.loads(match.group(1))
    except ValueError:
        return None


class FrameDecoder:
    """Incremental decoder: `push` chunks of any size in order; `on_message(value)` gets each JSON body."""

    def __init__(self, on_message, on_error, max_frame_bytes=DEFAULT_MAX_FRAME_BYTES):
        self.on_message = on_message
        self.on_error = on_error
        self.max_frame_bytes = max_frame_bytes
        self._buffer = bytearray()
        self._needed = 0
        self._resyncing = False
        self._skip_remaining = 0
        self._skip_frame_bytes = 0
        self._sniff = bytearray()
        self._sniff_done = False

    @property
    def has_partial_frame(self):
        return self._skip_remaining > 0 or (len(self._buffer) > 0 and not self._resyncing)

    @property
    def buffered_bytes(self):
        return len(self._buffer)

    def push(self, chunk):
        if not chunk:
            return
        if self._skip_remaining > 0:
            chunk = self._skip(chunk)
            if not chunk:
                return
        self._buffer += chunk
        if len(self._buffer) < self._needed:
            return
        self._needed = 0
        self._decode()

    def _skip(self, chunk):
        take = min(len(chunk), self._skip_remaining)
        if not self._sniff_done:
            self._sniff += chunk[: min(take, _ID_SNIFF_BYTES - len(self._sniff))]
            if len(self._sniff) >= _ID_SNIFF_BYTES or take == self._skip_remaining:
                self._report_too_large()
        self._skip_remaining -= take
        return chunk[take:]

    def _report_too_large(self):
        head = bytes(self._sniff).decode("utf-8", "replace")
        self._sniff = bytearray()
        self._sniff_done = True
        request_id = _sniff(_SNIFF_ID, head) if _REQUEST_HINT.search(head) else None
        response_id = None if request_id is not None else _sniff(_SNIFF_RESPONSE_ID, head)
        self.on_error(
            FramingError(
                "Frame of %d bytes is over the limit of %d bytes; it was skipped" % (self._skip_frame_bytes, self.max_frame_bytes),
                ErrorCodes.FrameTooLarge,
                request_id is not None,
                request_id if request_id is not None else response_id,
                {"limitBytes": self.max_frame_bytes, "frameBytes": self._skip_frame_bytes},
            )
        )

    def _decode(self):
        buffer = self._buffer
        offset = 0
        while offset < len(buffer):
            if self._resyncing:
                found = _find_marker(buffer, offset)
                if found < 0:
                    # Keep a marker's worth of tail: "Content-Len" + "gth:" may straddle two chunks.
                    offset = max(offset, len(buffer) - (len(_MARKER) - 1))
                    break
                offset = found
                self._resyncing = False
            kind, end, length, reason = self._parse_header(buffer, offset)
            if kind == "incomplete":
                break
            if kind == "garbage":
                preview = json.dumps(bytes(buffer[offset : offset + 60]).decode("utf-8", "replace"))
                self.on_error(
                    FramingError(
                        "Unexpected bytes where a frame header should start: %s. Only frames may be written to the protocol stream" % preview,
                        ErrorCodes.ParseError,
                        False,
                    )
                )
                self._resyncing = True
                offset += 1
                continue
            if kind == "invalid":
                self.on_error(FramingError("Invalid frame header: " + reason, ErrorCodes.ParseError, False))
                self._resyncing = True
                offset = end
                continue
            if length > self.max_frame_bytes:
                self._skip_frame_bytes = length
                self._skip_remaining = length
                self._sniff = bytearray()
                self._sniff_done = False
                rest = self._skip(bytes(buffer[end:]))
                buffer = bytearray(rest)
                offset = 0
                continue
            body_end = end + length
            if body_end > len(buffer):
                self._needed = body_end - offset
                break
            if kind == "unsupported":
                self.on_error(FramingError("Unsupported frame: " + reason, ErrorCodes.ParseError, True))
                offset = body_end
            elif self._emit(bytes(buffer[end:body_end])):
                offset = body_end
            else:
                found = _find_marker(buffer, end)
                offset = found if 0 <= found < body_end else body_end
        self._buffer = buffer[offset:]
        if self._needed and self._needed <= len(self._buffer):
            self._needed = 0

    def _emit(self, body):
        try:
            value = json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as error:
            self.on_error(FramingError("Frame body is not valid JSON: %s" % error, ErrorCodes.ParseError, True))
            return False
        self.on_message(value)
        return True

    @staticmethod
    def _parse_header(buffer, start):
        """(kind, end, length, reason) with kind one of incomplete, garbage, invalid, unsupported, ok."""
        common = _COMMON_HEADER.match(buffer, start)
        if common:
            return "ok", common.end(), int(common.group(1)), None
        position = start
        length = -1
        unsupported = None
        while True:
            eol = buffer.find(b"\r\n", position)
            if eol < 0 or eol - start > _MAX_HEADER_BYTES:
                if _plausible_partial_line(buffer, position, start):
                    return "incomplete", 0, 0, None
                return "garbage", 0, 0, None
            if eol == position:
                end = eol + 2
                if position == start:
                    return "garbage", 0, 0, None  # an empty line is not a header
                if length < 0:
                    return "invalid", end, 0, "missing Content-Length"
                if unsupported:
                    return "unsupported", end, length, unsupported
                return "ok", end, length, None
            line = bytes(buffer[position:eol]).decode("latin-1")
            match = _HEADER_LINE.match(line)
            if not match or "\n" in line:
                return "garbage", 0, 0, None
            name = match.group(1).lower()
            value = match.group(2)
            if name == "content-length":
                if not re.match(r"^\d{1,15}$", value):
                    return "invalid", eol + 2, 0, 'Content-Length is not a byte count: "%s"' % value[:40]
                length = int(value)
            elif name == "content-type":
                charset = _CHARSET.search(value)
                if charset and charset.group(1).lower() not in ("utf-8", "utf8"):
                    unsupported = 'charset "%s" (only utf-8 is allowed)' % charset.group(1).lower()
            position = eol + 2


def check_message_shape(value):
    """A FramingError when `value` is not a JSON-RPC 2.0 message the receiver can act on, else None."""
    if not isinstance(value, dict):
        text = "Batches are not supported: send one message per frame" if isinstance(value, list) else "A message must be a JSON object"
        return FramingError(text, ErrorCodes.InvalidRequest, True)
    message_id = value.get("id")
    valid_id = isinstance(message_id, (str, int)) and not isinstance(message_id, bool) or (isinstance(message_id, float) and message_id.is_integer())
    if value.get("jsonrpc") != "2.0":
        return FramingError('"jsonrpc" must be "2.0"', ErrorCodes.InvalidRequest, True, message_id if valid_id else None)
    method = value.get("method")
    if isinstance(method, str):
        if "id" in value and not valid_id:
            return FramingError('"id" must be a number or a string', ErrorCodes.InvalidRequest, True)
        return None
    if "method" in value:
        return FramingError('"method" must be a string', ErrorCodes.InvalidRequest, True, message_id if valid_id else None)
    if "result" in value or "error" in value:
        return None
    return FramingError("Neither a request, a notification nor a response", ErrorCodes.InvalidRequest, True, message_id if valid_id else None)
