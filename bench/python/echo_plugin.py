"""plugins/echo's behaviour on the Python kit, for bench/python/run.mjs: GET echo loads and saves the call
counter in the storage blob and sends a message, exactly as the TypeScript echo does; other paths 404."""

import threading
from dataclasses import dataclass

from flow_plugin import ConfigError, Plugin, PluginInstance, WebhookReply, run_plugin


@dataclass
class Config:
    magic_string: str = "hello world"


class Echo(PluginInstance):
    def __init__(self, ctx):
        super().__init__(ctx)
        self.config = Config()
        # Read-modify-write of the counter one at a time, as the TypeScript echo's queue does.
        self.lock = threading.Lock()

    def default_config(self):
        return Config()

    def validate_and_set_config(self, config):
        if not config.magic_string.strip():
            raise ConfigError("magic_string must not be empty")
        self.config = config

    def get_display(self, location):
        return "Echo server running at: %secho" % location.webhook_url

    def handle_webhook(self, request):
        if request.path != "/echo":
            return WebhookReply(404, body="not found")
        if request.method != "GET":
            return WebhookReply(405, {"allow": "GET"}, "use GET")
        with self.lock:
            called = (self.ctx.storage.load_json() or {"calledTimes": 0})["calledTimes"] + 1
            self.ctx.storage.save_json({"calledTimes": called})
        self.ctx.send("echo server received a hello message %d times" % called, title="Hello received", priority=2, extras={"plugin::name": "echo"})
        return WebhookReply(200, body=self.config.magic_string)


plugin = Plugin(
    info={"modulePath": "github.com/flow/bench/python-echo", "name": "python echo", "version": "1.0.0"},
    instance=Echo,
    uses=["messenger", "storager"],
)
