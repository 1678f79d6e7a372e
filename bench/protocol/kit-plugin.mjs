// The subject: a plugin written with @flow/plugin-kit, as plugin authors write them. ping is
// answered by the kit; a webhook reads one key from the host's storage (the nested case).
import { PluginInstance, definePlugin, runPlugin } from '@flow/plugin-kit';

class Bench extends PluginInstance {
  async handleWebhook() {
    const value = await this.ctx.kv.get('count');
    return { status: 200, body: String(value) };
  }
}

runPlugin(
  definePlugin({
    info: { name: 'bench', modulePath: 'github.com/flow/bench/protocol', version: '1.0.0' },
    instance: Bench,
    uses: ['storager'],
  }),
);
