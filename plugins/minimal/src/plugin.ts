import { PluginInstance, definePlugin } from '@flow/plugin-kit';

/**
 * One per user. Enable and disable are all it does: the smallest plugin Flow can load, and the
 * boilerplate to copy (Gotify's example/minimal, written with the kit).
 */
class Minimal extends PluginInstance {
  enable(): void {}

  disable(): void {}
}

export const plugin = definePlugin({
  info: {
    name: 'minimal plugin',
    modulePath: 'github.com/flow/plugins/minimal',
    version: '1.0.0',
    license: 'MIT',
    description: 'The smallest Flow plugin: enable and disable, nothing else.',
  },
  instance: Minimal,
});
