import { describe, expect, it } from 'vitest';
import { definePlugin } from './define.js';
import { PluginInstance, type DisplayLocation, type WebhookReply } from './instance.js';

const info = { name: 'test', modulePath: 'github.com/flow/test' };

describe('definePlugin', () => {
  it('infers no capabilities from an enable/disable-only instance', () => {
    class Minimal extends PluginInstance {
      enable(): void {}
      disable(): void {}
    }
    expect(definePlugin({ info, instance: Minimal }).capabilities).toEqual([]);
  });

  it('infers capabilities from methods, inherited ones included, in the canonical order', () => {
    class Base extends PluginInstance {
      getDisplay(location: DisplayLocation): string {
        return location.webhookUrl;
      }
    }
    class Full extends Base {
      onMessage(): void {}
      handleWebhook(): WebhookReply {
        return {};
      }
      defaultConfig(): object {
        return {};
      }
      validateAndSetConfig(): void {}
    }
    const plugin = definePlugin({ info, instance: Full, uses: ['storager', 'messenger'] });
    expect(plugin.capabilities).toEqual(['configurer', 'displayer', 'messenger', 'storager', 'webhooker', 'subscriber']);
  });

  it('refuses half a configurer, naming the missing method', () => {
    class Half extends PluginInstance {
      defaultConfig(): object {
        return {};
      }
    }
    expect(() => definePlugin({ info, instance: Half })).toThrow(/Half has defaultConfig but not validateAndSetConfig/);
  });

  it('refuses info without a modulePath', () => {
    class Minimal extends PluginInstance {}
    expect(() => definePlugin({ info: { name: 'x' } as never, instance: Minimal })).toThrow(/modulePath is required/);
  });

  it('refuses a capability in uses that is not a host service', () => {
    class Minimal extends PluginInstance {}
    expect(() => definePlugin({ info, instance: Minimal, uses: ['webhooker' as never] })).toThrow(/not a host service/);
  });

  it('keeps secret keys', () => {
    class Minimal extends PluginInstance {}
    expect(definePlugin({ info, instance: Minimal, secretKeys: ['token'] }).secretKeys).toEqual(['token']);
  });
});
