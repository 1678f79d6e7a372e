package plugin

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// Content-Length framing (spec/protocol.md sections 2.2-2.5): the reader resynchronises on
// garbage, skips oversized bodies without buffering them and reports what it skipped.

const defaultMaxFrameBytes = 8 << 20

var contentLengthMarker = []byte("content-length:")

// frameEvent is what readFrame found: a body, or a problem to report (and keep reading).
type frameEvent struct {
	body []byte
	// tooLarge: the body was skipped; head holds its first bytes (to find a request id).
	tooLarge   bool
	frameBytes int
	head       []byte
	// badCharset: the body was skipped; answer ParseError.
	badCharset bool
	// logged: a problem that only gets a log line (garbage, a bad header).
	logged string
}

type frameReader struct {
	r *bufio.Reader
	// lastLine holds the raw bytes of the line readLine returned last (line end included).
	lastLine []byte
	// pending holds bytes already read that belong to the next frame (a half frame's tail).
	pending []byte
	synced  bool
}

func newFrameReader(r io.Reader) *frameReader {
	return &frameReader{r: bufio.NewReaderSize(r, 64<<10), synced: true}
}

func (f *frameReader) readByte() (byte, error) {
	if len(f.pending) > 0 {
		b := f.pending[0]
		f.pending = f.pending[1:]
		return b, nil
	}
	return f.r.ReadByte()
}

func (f *frameReader) readLine() (string, error) {
	var line []byte
	for {
		b, err := f.readByte()
		if err != nil {
			if len(line) > 0 && err == io.EOF {
				return string(line), io.ErrUnexpectedEOF
			}
			return string(line), err
		}
		line = append(line, b)
		if b == '\n' {
			f.lastLine = line
			return strings.TrimRight(string(line), "\r\n"), nil
		}
		if len(line) > 8192 {
			return string(line), errHeaderTooLong
		}
	}
}

var errHeaderTooLong = errors.New("header line too long")

// skipToMarker consumes bytes until just after the next "Content-Length:" (any case).
func (f *frameReader) skipToMarker() error {
	matched := 0
	for {
		b, err := f.readByte()
		if err != nil {
			return err
		}
		c := b
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c == contentLengthMarker[matched] {
			matched++
			if matched == len(contentLengthMarker) {
				return nil
			}
		} else if c == contentLengthMarker[0] {
			matched = 1
		} else {
			matched = 0
		}
	}
}

func (f *frameReader) readBody(n int) ([]byte, error) {
	body := make([]byte, n)
	copied := copy(body, f.pending)
	f.pending = f.pending[copied:]
	if _, err := io.ReadFull(f.r, body[copied:]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return body, nil
}

func (f *frameReader) discard(n int) error {
	fromPending := n
	if fromPending > len(f.pending) {
		fromPending = len(f.pending)
	}
	f.pending = f.pending[fromPending:]
	_, err := io.CopyN(io.Discard, f.r, int64(n-fromPending))
	return err
}

// next reads the next frame or problem. err is io.EOF at a clean end of stream, another error
// when the stream ends inside a frame.
func (f *frameReader) next(maxFrame int) (frameEvent, error) {
	var length = -1
	var lengthValid = true
	var charsetBad bool
	var lines int
	if !f.synced {
		if err := f.skipToMarker(); err != nil {
			return frameEvent{}, err
		}
		f.synced = true
		rest, err := f.readLine()
		if err != nil {
			return frameEvent{}, err
		}
		if n, convErr := strconv.Atoi(strings.TrimSpace(rest)); convErr == nil && n >= 0 {
			length = n
		} else {
			lengthValid = false
		}
		lines = 1
	}
	for {
		line, err := f.readLine()
		if err != nil {
			if err == io.EOF && lines == 0 {
				return frameEvent{}, io.EOF
			}
			if err == errHeaderTooLong {
				f.synced = false
				return frameEvent{logged: "a header line of over 8 KiB: skipped to the next Content-Length header"}, nil
			}
			return frameEvent{}, io.ErrUnexpectedEOF
		}
		if line == "" {
			if lines == 0 {
				continue // a stray empty line between frames: nothing to report
			}
			break
		}
		lines++
		colon := strings.IndexByte(line, ':')
		if colon <= 0 || !isToken(line[:colon]) {
			// Garbage; a header may still start inside it ("oops Content-Length: 52"): resume there.
			if i := strings.Index(strings.ToLower(line), "content-length:"); i > 0 {
				f.pending = append([]byte(line[i:]+"\r\n"), f.pending...)
			} else {
				f.synced = false
			}
			return frameEvent{logged: fmt.Sprintf("bytes outside a frame on stdin: %q", truncate(line, 80))}, nil
		}
		name := strings.ToLower(strings.TrimSpace(line[:colon]))
		if strings.ContainsAny(name, " \t") {
			// Not a header name: stray output. A "Content-Length:" inside it starts the next
			// frame (spec section 2.5, "oops Content-Length: 52"): resume there.
			if i := bytes.Index(bytes.ToLower(f.lastLine), contentLengthMarker); i > 0 {
				f.pending = append(append([]byte{}, f.lastLine[i:]...), f.pending...)
			} else {
				f.synced = false
			}
			return frameEvent{logged: fmt.Sprintf("bytes outside a frame on stdin: %q", truncate(line, 80))}, nil
		}
		value := strings.TrimSpace(line[colon+1:])
		switch name {
		case "content-length":
			if n, convErr := strconv.Atoi(value); convErr == nil && n >= 0 {
				length = n
			} else {
				lengthValid = false
			}
		case "content-type":
			lower := strings.ToLower(value)
			if i := strings.Index(lower, "charset="); i >= 0 {
				cs := strings.Trim(strings.TrimSpace(lower[i+len("charset="):]), `"`)
				if cs != "utf-8" && cs != "utf8" {
					charsetBad = true
				}
			}
		}
	}
	if !lengthValid || length < 0 {
		// The body that follows has no trustworthy length: skip it as garbage.
		f.synced = false
		return frameEvent{logged: "a frame header without a valid Content-Length: skipped to the next frame"}, nil
	}
	if charsetBad {
		if err := f.discard(length); err != nil {
			return frameEvent{}, io.ErrUnexpectedEOF
		}
		return frameEvent{badCharset: true}, nil
	}
	if length > maxFrame {
		headLen := 512
		if headLen > length {
			headLen = length
		}
		head, err := f.readBody(headLen)
		if err != nil {
			return frameEvent{}, err
		}
		if err := f.discard(length - headLen); err != nil {
			return frameEvent{}, io.ErrUnexpectedEOF
		}
		return frameEvent{tooLarge: true, frameBytes: length, head: head}, nil
	}
	body, err := f.readBody(length)
	if err != nil {
		return frameEvent{}, err
	}
	return frameEvent{body: body}, nil
}

// resumeAt re-reads the bytes of body from the first "Content-Length:" on, for a half frame:
// its sender wrote fewer bytes than announced and then the next frame.
func (f *frameReader) resumeAt(body []byte) bool {
	i := bytes.Index(bytes.ToLower(body), contentLengthMarker)
	if i < 0 {
		return false
	}
	f.pending = append(append([]byte{}, body[i:]...), f.pending...)
	return true
}

var leadingRequestID = regexp.MustCompile(`^\s*\{\s*"jsonrpc"\s*:\s*"2\.0"\s*,\s*"id"\s*:\s*(-?\d+|"(?:[^"\\]|\\.)*")\s*,\s*"method"\s*:`)

// requestIDOf finds the id of a request from the first bytes of its body (members in the
// order the spec recommends), or nil.
func requestIDOf(head []byte) []byte {
	m := leadingRequestID.FindSubmatch(head)
	if m == nil {
		return nil
	}
	return m[1]
}

// isToken: a valid header name (RFC 9110 token characters).
func isToken(name string) bool {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return len(name) > 0
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// encodeFrame returns header and body as one buffer, for a single write.
func encodeFrame(body []byte) []byte {
	out := make([]byte, 0, len(body)+32)
	out = append(out, "Content-Length: "...)
	out = strconv.AppendInt(out, int64(len(body)), 10)
	out = append(out, "\r\n\r\n"...)
	return append(out, body...)
}
