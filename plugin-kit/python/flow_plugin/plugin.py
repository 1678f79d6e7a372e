"""What a plugin is: its info, its instance class (one object per user) and the host services it uses."""

import dataclasses
import inspect

PROTOCOL_VERSIONS = ["1.1"]
CAPABILITY_ORDER = ["configurer", "displayer", "messenger", "storager", "webhooker", "subscriber"]

# Methods on the instance class that make a capability (all of a group are needed).
_IMPLEMENTED_BY = [
    ("configurer", ("default_config", "validate_and_set_config")),
    ("displayer", ("get_display",)),
    ("webhooker", ("handle_webhook",)),
    ("subscriber", ("on_message",)),
]
# How many arguments each handler takes before the optional `call`.
_ARGUMENTS = {
    "enable": 0,
    "disable": 0,
    "default_config": 0,
    "validate_and_set_config": 1,
    "get_display": 1,
    "handle_webhook": 1,
    "on_message": 1,
}
_INFO_FIELDS = {"modulePath": 512, "name": 256, "version": 64, "author": 256, "website": 1024, "license": 128, "description": 4096}


class PluginInstance:
    """Base class of a plugin instance: one per user, built with its context (`self.ctx`).

    Add the methods of the capabilities you implement; each may take a last argument `call` (a `Call`:
    the request's cancellation):

    - `enable()` / `disable()`: always available; raising from `enable` keeps the instance disabled.
    - configurer: `default_config()` (a dataclass, a dict, or YAML text) and `validate_and_set_config(config)`.
    - displayer: `get_display(location)` returning markdown.
    - webhooker: `handle_webhook(request)` returning a `WebhookReply`, a dict, or None (200, empty).
    - subscriber: `on_message(message)`.
    """

    def __init__(self, ctx):
        self.ctx = ctx


class Plugin:
    """A checked plugin definition, for `run_plugin`.

    `info`: dict with `modulePath` (required, the plugin's unique id) and optional name, version, author,
    website, license, description. `instance`: the PluginInstance subclass. `uses`: host services called,
    "messenger" (ctx.send) and "storager" (ctx.storage, ctx.kv). `secret_keys`: top-level config keys whose
    values are secret. `config_schema`: a JSON Schema (draft 2020-12) of the config as the user writes it,
    which a 1.1 host validates every config against (keys with defaults should not be `required`).
    `config_class`: a dataclass the merged config is built into (fields type-checked), needed when
    `default_config` returns YAML text (to keep its comments) rather than the dataclass itself.
    """

    def __init__(self, info, instance, uses=(), secret_keys=(), config_schema=None, config_class=None):
        if not isinstance(info, dict) or not isinstance(info.get("modulePath"), str) or not info["modulePath"]:
            raise TypeError('Plugin: info needs "modulePath", e.g. "github.com/you/flow-plugin-name"')
        for key, limit in _INFO_FIELDS.items():
            if key in info and (not isinstance(info[key], str) or len(info[key]) > limit):
                raise TypeError("Plugin: info.%s must be a string of at most %d characters" % (key, limit))
        if not (isinstance(instance, type) and issubclass(instance, PluginInstance)):
            raise TypeError("Plugin: instance must be a class extending PluginInstance")
        capabilities = set()
        for capability, methods in _IMPLEMENTED_BY:
            present = [name for name in methods if callable(getattr(instance, name, None))]
            if len(present) == len(methods):
                capabilities.add(capability)
            elif present:
                missing = [name for name in methods if name not in present]
                raise TypeError("Plugin: %s has %s but not %s; a %s needs both" % (instance.__name__, ", ".join(present), ", ".join(missing), capability))
        for used in uses:
            if used not in ("messenger", "storager"):
                raise TypeError('Plugin: uses: "%s" is not a host service; use "messenger" or "storager"' % used)
            capabilities.add(used)
        if config_schema is not None:
            if "configurer" not in capabilities:
                raise TypeError("Plugin: config_schema is given but %s is not a configurer (default_config + validate_and_set_config)" % instance.__name__)
            if not isinstance(config_schema, dict):
                raise TypeError("Plugin: config_schema must be a JSON Schema object (a dict)")
        if config_class is not None and not (isinstance(config_class, type) and dataclasses.is_dataclass(config_class)):
            raise TypeError("Plugin: config_class must be a dataclass")
        if config_class is not None and "configurer" not in capabilities:
            raise TypeError("Plugin: config_class is given but %s is not a configurer" % instance.__name__)
        self.config_class = config_class
        self.info = {key: value for key, value in info.items() if key in _INFO_FIELDS}
        self.instance = instance
        self.capabilities = [capability for capability in CAPABILITY_ORDER if capability in capabilities]
        self.secret_keys = list(secret_keys)
        self.config_schema = config_schema
        self.wants_call = {name: _takes_extra(getattr(instance, name, None), count) for name, count in _ARGUMENTS.items()}


def _takes_extra(function, count):
    """Whether `function` (an unbound method) accepts a `call` after its `count` arguments."""
    if function is None:
        return False
    try:
        parameters = list(inspect.signature(function).parameters.values())[1:]
    except (TypeError, ValueError):
        return False
    if any(parameter.kind == parameter.VAR_POSITIONAL for parameter in parameters):
        return True
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) > count
