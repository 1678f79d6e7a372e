"""Configuration: defaults as a dataclass or a dict, the user's value merged onto them, YAML for the editor.

- On a protocol 1.1 host the user's YAML arrives parsed (`value`, YAML 1.2 core schema, spec section 7.6):
  no YAML parser is needed. On a 1.0 host the kit reads the text with `yaml_subset`.
- The user's document is merged onto the defaults **by top-level key** (spec section 7.6): a missing key
  keeps its default, a present key replaces it whole, unknown keys are ignored (for a dataclass) or passed
  through (for a dict, for the plugin to ignore or reject).
- A dataclass config is rebuilt from the merged document with each field's annotation checked (str, int,
  float, bool, list/List[X], dict/Dict[str, X], Optional[X], nested dataclasses, Any), so a value of the
  wrong type is refused with its path before the plugin sees it.
"""

import copy
import dataclasses
import json
import math
import re
import typing

from .errors import ConfigError
from .yaml_subset import parse_yaml

_PLAIN = re.compile(r"^[A-Za-z][A-Za-z0-9_./@+ -]*$")
_RESERVED = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "nan", "inf"}


def to_plain(value):
    """A dataclass (or anything holding them) as JSON-like dicts and lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: to_plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(key): to_plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(item) for item in value]
    return value


def _scalar(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("a config value cannot be %r (JSON cannot hold it)" % value)
        return repr(value)
    text = str(value)
    if _PLAIN.match(text) and not text.endswith(" ") and text.lower() not in _RESERVED and " #" not in text:
        return text
    return json.dumps(text, ensure_ascii=False)


def _render(value, indent, lines):
    pad = " " * indent
    if isinstance(value, dict):
        for key, item in value.items():
            name = _scalar(str(key))
            if isinstance(item, dict) and item:
                lines.append("%s%s:" % (pad, name))
                _render(item, indent + 2, lines)
            elif isinstance(item, list) and item:
                lines.append("%s%s:" % (pad, name))
                _render(item, indent + 2, lines)
            else:
                lines.append("%s%s: %s" % (pad, name, _inline(item)))
    else:
        for item in value:
            if isinstance(item, dict) and item:
                start = len(lines)
                _render(item, indent + 2, lines)
                lines[start] = "%s- %s" % (pad, lines[start][indent + 2 :])
            elif isinstance(item, list) and item:
                lines.append("%s- %s" % (pad, json.dumps(item, ensure_ascii=False)))
            else:
                lines.append("%s- %s" % (pad, _inline(item)))


def _inline(value):
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _scalar(value)


def render_yaml(value):
    """A mapping as block-style YAML that both YAML 1.2 core parsers and `yaml_subset` read back equal."""
    value = to_plain(value)
    if not isinstance(value, dict):
        raise ValueError("a config must be a mapping of keys to values")
    if not value:
        return "{}\n"
    lines = []
    _render(value, 0, lines)
    return "\n".join(lines) + "\n"


def parse_config_text(text):
    """YAML text (1.0 hosts) as a mapping; ConfigError with the reason otherwise."""
    value = parse_yaml(text)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError("config must be a mapping of keys to values, not %s" % _describe(value))
    return value


def _describe(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "a %s" % type(value).__name__


def merge(defaults, user):
    """`user` merged onto `defaults` by top-level key; the result is a fresh dict."""
    base = copy.deepcopy(to_plain(defaults)) if defaults is not None else {}
    if user is None:
        return base
    if not isinstance(user, dict):
        raise ConfigError("config must be a mapping of keys to values, not %s" % _describe(user))
    if not isinstance(base, dict):
        return copy.deepcopy(user)
    base.update(copy.deepcopy(user))
    return base


def build(kind, document):
    """The config the plugin sees: `kind(**checked fields)` for a dataclass, else the document itself."""
    if kind is None or not dataclasses.is_dataclass(kind):
        return document
    return _build_dataclass(kind, document, "")


def _build_dataclass(kind, document, path):
    if not isinstance(document, dict):
        raise ConfigError("%s: expected a mapping, got %s" % (path or "config", _describe(document)))
    hints = typing.get_type_hints(kind)
    values = {}
    for field in dataclasses.fields(kind):
        if not field.init or field.name not in document:
            continue
        where = field.name if not path else "%s.%s" % (path, field.name)
        values[field.name] = _convert(hints.get(field.name, typing.Any), document[field.name], where)
    try:
        return kind(**values)
    except TypeError as error:
        # A field without a default that the document left out.
        raise ConfigError("%s: %s" % (path or "config", error)) from None


def _convert(hint, value, path):
    if hint is typing.Any or hint is object:
        return value
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Union:
        if value is None and type(None) in args:
            return None
        problems = []
        for option in args:
            if option is type(None):
                continue
            try:
                return _convert(option, value, path)
            except ConfigError as error:
                problems.append(str(error))
        raise ConfigError(problems[0] if len(problems) == 1 else "%s: %s is not allowed here" % (path, _describe(value)))
    if dataclasses.is_dataclass(hint):
        return _build_dataclass(hint, value, path)
    if hint in (list, tuple) or origin in (list, tuple, typing.List):
        if not isinstance(value, list):
            raise ConfigError("%s: expected a list, got %s" % (path, _describe(value)))
        item = args[0] if args else typing.Any
        return [_convert(item, element, "%s[%d]" % (path, index)) for index, element in enumerate(value)]
    if hint is dict or origin in (dict, typing.Dict):
        if not isinstance(value, dict):
            raise ConfigError("%s: expected a mapping, got %s" % (path, _describe(value)))
        item = args[1] if len(args) == 2 else typing.Any
        return {key: _convert(item, element, "%s.%s" % (path, key)) for key, element in value.items()}
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError("%s: expected true or false, got %s" % (path, _describe(value)))
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (isinstance(value, float) and not value.is_integer()):
            raise ConfigError("%s: expected a whole number, got %s" % (path, _describe(value)))
        return int(value)
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError("%s: expected a number, got %s" % (path, _describe(value)))
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError("%s: expected a string, got %s" % (path, _describe(value)))
        return value
    return value
