"""Error codes of the protocol (spec/protocol.md section 10) and the error that crosses the wire."""


class ErrorCodes:
    ParseError = -32700
    InvalidRequest = -32600
    MethodNotFound = -32601
    InvalidParams = -32602
    InternalError = -32603
    RequestCancelled = -32800
    PluginError = 1000
    Timeout = 1001
    UnknownInstance = 1002
    NotSupported = 1003
    TransportClosed = 1004
    IncompatibleVersion = 1005
    NotInitialized = 1006
    InvalidConfig = 1007
    QuotaExceeded = 1008
    ShuttingDown = 1009
    FrameTooLarge = 1010


class RpcError(Exception):
    """A JSON-RPC error: raised by failed host calls, and sent as is when a handler raises it."""

    def __init__(self, code, message, data=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_json(self):
        error = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error

    def __repr__(self):
        return "RpcError(%r, %r)" % (self.code, self.message)


class ConfigError(Exception):
    """A rejected configuration: its message reaches the user as is (InvalidConfig)."""


class Cancelled(Exception):
    """Raised by `Call.check()` once the host cancelled the request (or the instance or plugin stopped)."""
