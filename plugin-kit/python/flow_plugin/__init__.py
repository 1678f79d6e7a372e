"""flow-plugin-kit: write a Flow plugin in Python (standard library only, Python 3.9+).

    from flow_plugin import Plugin, PluginInstance, run_plugin
"""

from .config import render_yaml
from .context import Context, KeyValue, Storage, User
from .errors import Cancelled, ConfigError, ErrorCodes, RpcError
from .plugin import PROTOCOL_VERSIONS, Plugin, PluginInstance
from .run import run_plugin
from .serve import Call, DisplayLocation, Message, Session
from .webhook import WebhookReply, WebhookRequest

__version__ = "1.1.0"

__all__ = [
    "Call",
    "Cancelled",
    "ConfigError",
    "Context",
    "DisplayLocation",
    "ErrorCodes",
    "KeyValue",
    "Message",
    "PROTOCOL_VERSIONS",
    "Plugin",
    "PluginInstance",
    "RpcError",
    "Session",
    "Storage",
    "User",
    "WebhookReply",
    "WebhookRequest",
    "render_yaml",
    "run_plugin",
]
