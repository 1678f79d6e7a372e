"""Log lines: JSON objects on stderr, one a line (spec section 13), which the host re-logs at their level."""

import json
import logging
import os
import threading
from datetime import datetime, timezone

LEVELS = ("debug", "info", "warn", "error")
_stderr_lock = threading.Lock()


def write_log_line(level, message, fields=None, instance_id=None):
    """`{"time","level","message","instanceId"?,"fields"?}` on stderr, written whole."""
    line = {"time": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"), "level": level, "message": message}
    if instance_id is not None:
        line["instanceId"] = instance_id
    if fields:
        line["fields"] = fields
    try:
        text = json.dumps(line, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = json.dumps({"time": line["time"], "level": level, "message": str(message)})
    data = (text + "\n").encode("utf-8", "replace")
    with _stderr_lock:
        try:
            os.write(2, data)
        except OSError:
            pass


class Logger:
    """`log.info("poll done", items=3)`: to the host's log via log/write once the session is up, tagged
    with the instance; to stderr before (and after the host is gone)."""

    __slots__ = ("_emit", "_instance_id")

    def __init__(self, emit, instance_id=None):
        self._emit = emit
        self._instance_id = instance_id

    def debug(self, message, **fields):
        self._emit("debug", str(message), fields or None, self._instance_id)

    def info(self, message, **fields):
        self._emit("info", str(message), fields or None, self._instance_id)

    def warn(self, message, **fields):
        self._emit("warn", str(message), fields or None, self._instance_id)

    warning = warn

    def error(self, message, **fields):
        self._emit("error", str(message), fields or None, self._instance_id)


class JsonLineHandler(logging.Handler):
    """Python's `logging` as the kit's JSON lines on stderr, so a library's log records keep their level."""

    def emit(self, record):
        level = "debug" if record.levelno < logging.INFO else "info" if record.levelno < logging.WARNING else "warn" if record.levelno < logging.ERROR else "error"
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
        write_log_line(level, message, {"logger": record.name} if record.name != "root" else None)


def route_logging_to_stderr():
    """Installs JsonLineHandler on the root logger unless the plugin configured logging itself."""
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(JsonLineHandler())
        root.setLevel(logging.INFO)
