"""The params of every host -> plugin method and their checks (spec section 7; schemas in spec/schemas/).

A check returns every problem at once as InvalidParams issues, `{"path": [...], "message": ...}`
(spec section 10), so a host author sees all that is wrong with one call.
"""

import base64
import binascii

from .errors import ErrorCodes, RpcError

MAX_SAFE_INTEGER = 2 ** 53 - 1


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool) and -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER


def _describe(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def string(min_length=0, max_length=None):
    def check(value, path, issues):
        if not isinstance(value, str):
            issues.append({"path": path, "message": "Invalid input: expected string, received %s" % _describe(value)})
        elif len(value) < min_length:
            issues.append({"path": path, "message": "Too small: expected string to have >=%d characters" % min_length})
        elif max_length is not None and len(value) > max_length:
            issues.append({"path": path, "message": "Too big: expected string to have <=%d characters" % max_length})

    return check


def integer(minimum=None, maximum=None):
    def check(value, path, issues):
        if not _is_int(value):
            issues.append({"path": path, "message": "Invalid input: expected int, received %s" % _describe(value)})
        elif (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            issues.append({"path": path, "message": "Out of range: expected %s..%s" % (minimum, maximum)})

    return check


def boolean(value, path, issues):
    if not isinstance(value, bool):
        issues.append({"path": path, "message": "Invalid input: expected boolean, received %s" % _describe(value)})


def base64_bytes(value, path, issues):
    if not isinstance(value, str):
        issues.append({"path": path, "message": "Invalid input: expected string, received %s" % _describe(value)})
        return
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        issues.append({"path": path, "message": "Invalid base64"})


def string_array(min_items=0):
    def check(value, path, issues):
        if not isinstance(value, list):
            issues.append({"path": path, "message": "Invalid input: expected array, received %s" % _describe(value)})
            return
        if len(value) < min_items:
            issues.append({"path": path, "message": "Too small: expected array to have >=%d items" % min_items})
        for index, item in enumerate(value):
            string()(item, path + [index], issues)

    return check


def string_map(value, path, issues):
    if not isinstance(value, dict):
        issues.append({"path": path, "message": "Invalid input: expected record, received %s" % _describe(value)})
        return
    for key, item in value.items():
        string()(item, path + [key], issues)


def any_object(value, path, issues):
    if not isinstance(value, dict):
        issues.append({"path": path, "message": "Invalid input: expected record, received %s" % _describe(value)})


def one_of(*choices):
    def check(value, path, issues):
        if value not in choices:
            issues.append({"path": path, "message": "Invalid option: expected one of %s" % "|".join('"%s"' % c for c in choices)})

    return check


def obj(fields):
    """`fields`: name -> (check, required)."""

    def check(value, path, issues):
        if not isinstance(value, dict):
            issues.append({"path": path, "message": "Invalid input: expected object, received %s" % _describe(value)})
            return
        for name, (field_check, required) in fields.items():
            if name not in value:
                if required:
                    issues.append({"path": path + [name], "message": "Invalid input: expected %s, received undefined" % _kind(field_check)})
                continue
            if value[name] is None and not required:
                issues.append({"path": path + [name], "message": "Invalid input: expected %s, received null" % _kind(field_check)})
                continue
            field_check(value[name], path + [name], issues)

    check.kind = "object"
    return check


def _kind(check):
    return getattr(check, "kind", "value")


INSTANCE_ID = string(1, 128)
_INSTANCE = obj({"instanceId": (INSTANCE_ID, True)})
_EMPTY = obj({})
_LIMITS = obj({"maxFrameBytes": (integer(1), True), "storageQuotaBytes": (integer(1), True), "webhookBodyBytes": (integer(1), True)})
_USER = obj({"id": (integer(1), True), "name": (string(), True), "admin": (boolean, True)})
_LOCATION = obj({"scheme": (one_of("http", "https"), True), "host": (string(), True), "webhookBasePath": (string(), True)})
_MESSAGE = obj(
    {
        "id": (integer(1), True),
        "appid": (integer(1), True),
        "message": (string(), True),
        "title": (string(), True),
        "priority": (integer(), True),
        "extras": (any_object, False),
        "date": (string(), True),
    }
)

# method -> (capability or None, params check)
REQUESTS = {
    "initialize": (None, obj({"protocolVersions": (string_array(1), True), "host": (obj({"name": (string(), True), "version": (string(), True)}), True), "limits": (_LIMITS, True)})),
    "shutdown": (None, _EMPTY),
    "ping": (None, _EMPTY),
    "plugin/info": (None, _EMPTY),
    "instance/create": (None, obj({"instanceId": (INSTANCE_ID, True), "user": (_USER, True), "webhookBasePath": (string(), True)})),
    "instance/destroy": (None, _INSTANCE),
    "instance/enable": (None, _INSTANCE),
    "instance/disable": (None, _INSTANCE),
    "config/default": ("configurer", _INSTANCE),
    "config/validateAndSet": ("configurer", obj({"instanceId": (INSTANCE_ID, True), "config": (string(), True), "value": (any_object, False)})),
    "display/get": ("displayer", obj({"instanceId": (INSTANCE_ID, True), "location": (_LOCATION, True)})),
    "webhook/request": (
        "webhooker",
        obj(
            {
                "instanceId": (INSTANCE_ID, True),
                "method": (string(), True),
                "path": (string(), True),
                "query": (string(), True),
                "headers": (string_map, True),
                "body": (base64_bytes, True),
                "remoteAddress": (string(), False),
            }
        ),
    ),
}

MESSAGE_RECEIVED = obj({"instanceId": (INSTANCE_ID, True), "message": (_MESSAGE, True)})


def issues_of(check, params):
    issues = []
    check(params, [], issues)
    return issues


def require_valid(method, check, params):
    """Raises InvalidParams with every issue when `params` does not match."""
    issues = issues_of(check, params)
    if issues:
        first = issues[0]
        where = ".".join(str(part) for part in first["path"]) or "params"
        raise RpcError(ErrorCodes.InvalidParams, 'invalid params for "%s": %s: %s' % (method, where, first["message"]), {"issues": issues})
