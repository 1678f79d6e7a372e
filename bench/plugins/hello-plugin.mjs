#!/usr/bin/env node
// The bench subject: a kit-based plugin whose webhook answers "hello" (the in-process
// baseline in run.mjs runs the same handler inside Koa). Run unbundled: Node resolves
// @flow/plugin-kit from the workspace.
import { PluginInstance, definePlugin, runPlugin } from '@flow/plugin-kit';

class Hello extends PluginInstance {
  async handleWebhook() {
    return { status: 200, body: 'hello' };
  }
}

runPlugin(
  definePlugin({
    info: { name: 'hello', modulePath: 'github.com/flow/bench/hello', version: '1.0.0' },
    instance: Hello,
  }),
);
