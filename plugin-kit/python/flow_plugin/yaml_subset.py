"""A YAML subset reader, used only on a protocol 1.0 host (a 1.1 host sends the config as JSON).

Python's standard library has no YAML parser. On a 1.1 connection the host parses the YAML itself (YAML 1.2 core
schema) and sends the value, so this module is never used there. On a 1.0 connection the kit reads the text with
this subset and answers InvalidConfig, with the line number, for what it cannot read:

- block mappings (`key: value`) and block lists (`- item`, `- key: value`), nested by indenting with spaces;
- scalars: plain text, 'single' and "double" quoted strings, integers (also 0x1F, 0o17), decimals,
  true/false, null/~ (YAML 1.2 core: `yes` and `on` are strings);
- JSON-style flow collections (`[]`, `{}`, `["a", 1]`), and a whole document in JSON;
- `#` comments at the start of a line or after a space, LF or CRLF line ends.

Not read: anchors and aliases, tags, block scalars (`|`, `>`), values over several lines, several documents.
The text the kit writes for default configs (config.py, `render_yaml`) stays inside this subset.
(The reader is the one plugins/alarm wrote from the spec, moved here.)
"""

import json
import re

from .errors import ConfigError

def _strip_comment(line):
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"" and (i == 0 or line[i - 1] in " \t:-[{,"):
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i]
    return line


_INT = re.compile(r"^[-+]?\d+$")
_HEX = re.compile(r"^0x[0-9a-fA-F]+$")
_OCT = re.compile(r"^0o[0-7]+$")
_FLOAT = re.compile(r"^[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?$")


def _parse_scalar(text, line_no):
    s = text.strip()
    if s == "":
        return None
    if s[0] == '"':
        end = _closing_double_quote(s)
        if end != len(s) - 1:
            raise ConfigError(f"line {line_no}: unterminated or trailing text after a quoted string")
        try:
            return json.loads(s)
        except ValueError:
            raise ConfigError(f"line {line_no}: invalid escape in a double-quoted string") from None
    if s[0] == "'":
        if len(s) < 2 or not s.endswith("'") or re.search(r"(?<!')'(?!')", s[1:-1]):
            raise ConfigError(f"line {line_no}: unterminated or trailing text after a quoted string")
        return s[1:-1].replace("''", "'")
    if s[0] in "[{":
        try:
            return json.loads(s)
        except ValueError:
            pass
        if s[0] == "[" and s.endswith("]") and not re.search(r"[\[\]{}\"']", s[1:-1]):
            inner = s[1:-1].strip()
            return [] if inner == "" else [_parse_scalar(part, line_no) for part in inner.split(",")]
        raise ConfigError(f"line {line_no}: flow collections must be JSON, e.g. [\"a\", \"b\"]")
    if s[0] in "|>":
        raise ConfigError(f"line {line_no}: block scalars (| and >) are not supported; use a quoted string")
    if s[0] in "&*!":
        raise ConfigError(f"line {line_no}: anchors, aliases and tags are not supported")
    if ": " in s or s.endswith(":"):
        raise ConfigError(f"line {line_no}: quote values that contain ': '")
    if s in ("null", "Null", "NULL", "~"):
        return None
    if s in ("true", "True", "TRUE"):
        return True
    if s in ("false", "False", "FALSE"):
        return False
    if _INT.match(s):
        return int(s)
    if _HEX.match(s):
        return int(s[2:], 16)
    if _OCT.match(s):
        return int(s[2:], 8)
    if _FLOAT.match(s):
        return float(s)
    return s


def _closing_double_quote(s):
    i = 1
    while i < len(s):
        if s[i] == "\\":
            i += 2
            continue
        if s[i] == '"':
            return i
        i += 1
    return -1


def _split_key(text, line_no):
    """`key: value` -> (key, value text); the key may be quoted."""
    if text[0] in "'\"":
        end = _closing_double_quote(text) if text[0] == '"' else text.find("'", 1)
        if end < 0:
            raise ConfigError(f"line {line_no}: unterminated quoted key")
        key = _parse_scalar(text[: end + 1], line_no)
        rest = text[end + 1 :]
        if not (rest == ":" or rest.startswith(": ")):
            raise ConfigError(f"line {line_no}: expected ':' after the key")
        return key, rest[1:].strip()
    match = re.match(r"^([^:]+?)\s*:(?:\s+(.*))?$", text)
    if not match:
        raise ConfigError(f"line {line_no}: expected 'key: value'")
    return match.group(1), (match.group(2) or "").strip()


def _is_item(text):
    return text == "-" or text.startswith("- ")


def _parse_block(lines, i, indent):
    if _is_item(lines[i][2]):
        return _parse_sequence(lines, i, indent)
    return _parse_mapping(lines, i, indent)


def _parse_sequence(lines, i, indent):
    items = []
    while i < len(lines) and lines[i][1] == indent and _is_item(lines[i][2]):
        line_no, _, text = lines[i]
        rest = text[1:].lstrip(" ")
        if rest == "":
            if i + 1 < len(lines) and lines[i + 1][1] > indent:
                value, i = _parse_block(lines, i + 1, lines[i + 1][1])
            else:
                value, i = None, i + 1
        elif _is_item(rest) or re.match(r"^(\"[^\"]*\"|'[^']*'|[^'\"\[{][^:]*?)\s*:(\s|$)", rest):
            # `- key: value` (or `- - x`): a nested block whose first line starts at the item's column.
            lines[i] = (line_no, indent + len(text) - len(rest), rest)
            value, i = _parse_block(lines, i, lines[i][1])
        else:
            value, i = _parse_scalar(rest, line_no), i + 1
        items.append(value)
        if i < len(lines) and lines[i][1] > indent:
            raise ConfigError(f"line {lines[i][0]}: unexpected indentation")
    return items, i


def _parse_mapping(lines, i, indent):
    result = {}
    while i < len(lines) and lines[i][1] == indent:
        line_no, _, text = lines[i]
        if _is_item(text):
            raise ConfigError(f"line {line_no}: a list item where a 'key: value' was expected")
        key, rest = _split_key(text, line_no)
        if not isinstance(key, str):
            key = str(key)
        if key in result:
            raise ConfigError(f"line {line_no}: duplicate key '{key}'")
        if rest == "":
            nxt = lines[i + 1] if i + 1 < len(lines) else None
            # YAML lets a list under a key start at the key's own indentation.
            if nxt and (nxt[1] > indent or (nxt[1] == indent and _is_item(nxt[2]))):
                value, i = _parse_block(lines, i + 1, nxt[1])
            else:
                value, i = None, i + 1
        else:
            value, i = _parse_scalar(rest, line_no), i + 1
        result[key] = value
        if i < len(lines) and lines[i][1] > indent:
            raise ConfigError(f"line {lines[i][0]}: unexpected indentation")
    return result, i


def parse_yaml(text):
    """Parses the YAML subset described above; raises ConfigError with the line number."""
    stripped = text.strip()
    if stripped.startswith("{") or stripped.startswith("["):
        try:
            return json.loads(stripped)
        except ValueError:
            pass
    lines = []
    for line_no, raw in enumerate(text.splitlines(), 1):
        content = _strip_comment(raw).rstrip()
        if content.strip() == "":
            continue
        lead = content[: len(content) - len(content.lstrip(" \t"))]
        if "\t" in lead:
            raise ConfigError(f"line {line_no}: indent with spaces, not tabs")
        if content.strip() in ("---", "...") and lead == "":
            if any(lines):
                raise ConfigError(f"line {line_no}: only one YAML document is supported")
            continue
        lines.append((line_no, len(lead), content.strip()))
    if not lines:
        return None
    if len(lines) == 1 and not _is_item(lines[0][2]) and not re.match(r"^[^:]+:(\s|$)", lines[0][2]):
        return _parse_scalar(lines[0][2], lines[0][0])
    value, i = _parse_block(lines, 0, lines[0][1])
    if i < len(lines):
        raise ConfigError(f"line {lines[i][0]}: unexpected indentation")
    return value
