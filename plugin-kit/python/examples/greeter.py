"""A small complete plugin: greets whoever POSTs a name to its webhook, remembers the last one and counts them in kv."""

from dataclasses import dataclass

from flow_plugin import ConfigError, Plugin, PluginInstance, WebhookReply, run_plugin


@dataclass
class Config:
    greeting: str = "hello"


class Greeter(PluginInstance):
    def __init__(self, ctx):
        super().__init__(ctx)
        self.config = Config()
        self.last = None

    def enable(self):
        self.last = self.ctx.kv.get("last")

    def default_config(self):
        return Config()

    def validate_and_set_config(self, config):
        if not config.greeting.strip():
            raise ConfigError("greeting must not be empty")
        self.config = config

    def get_display(self, location):
        last = " Last greeted: %s." % self.last if self.last else ""
        return "POST a name to `%sgreet` and get a notification.%s" % (location.webhook_url, last)

    def handle_webhook(self, request):
        if request.path != "/greet":
            return WebhookReply(404, body="not found")
        name = request.text().strip() or "stranger"
        self.ctx.send("%s, %s!" % (self.config.greeting, name), title="Greeting")
        self.ctx.kv.set("last", name)
        self.last = name
        count = self.ctx.kv.increment("greeted") if self.ctx.speaks("1.1") else None
        return {"body": {"greeted": name, "count": count}}


plugin = Plugin(
    info={"modulePath": "github.com/flow/plugin-kit/python/examples/greeter", "name": "greeter", "version": "1.0.0", "license": "MIT"},
    instance=Greeter,
    uses=["messenger", "storager"],
    config_schema={"type": "object", "properties": {"greeting": {"type": "string", "minLength": 1}}},
)

if __name__ == "__main__":
    run_plugin(plugin)
