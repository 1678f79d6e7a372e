import { ConfigError, definePlugin, PluginInstance, runPlugin, type DisplayLocation, type InstanceContext } from '@flow/plugin-kit';
import { DEFAULT_CONFIG_YAML, InvalidRssConfig, parseRssConfig, type RssConfig } from './config.js';
import { renderDisplay } from './display.js';
import { FeedPoller } from './poller.js';

/**
 * One instance per user: a FeedPoller over the user's feeds, polling while enabled. The
 * configuration can change at any time; a running poller is rescheduled in place.
 */
export class RssInstance extends PluginInstance<unknown> {
  private config: RssConfig = parseRssConfig({});
  private readonly poller: FeedPoller;

  constructor(ctx: InstanceContext) {
    super(ctx);
    this.poller = new FeedPoller(ctx, this.config);
    // Destroyed or shut down: no timer may fire for this instance again.
    ctx.signal.addEventListener('abort', () => void this.poller.stop(), { once: true });
  }

  defaultConfig(): string {
    return DEFAULT_CONFIG_YAML;
  }

  validateAndSetConfig(raw: unknown): void {
    try {
      this.config = parseRssConfig(raw);
    } catch (err) {
      if (err instanceof InvalidRssConfig) throw new ConfigError(err.message);
      throw err;
    }
    this.poller.reconfigure(this.config);
  }

  enable(): void {
    this.poller.start();
  }

  async disable(): Promise<void> {
    await this.poller.stop();
  }

  getDisplay(_location: DisplayLocation): string {
    return renderDisplay(this.config, this.poller.snapshot(), this.poller.running);
  }
}

export const plugin = definePlugin({
  info: {
    name: 'rss',
    modulePath: 'github.com/flow/plugins/rss',
    version: '1.0.0',
    author: 'Flow',
    website: 'https://github.com/flow/flow/tree/main/plugins/rss',
    license: 'MIT',
    description: 'Polls RSS and Atom feeds and sends one message per new item.',
  },
  instance: RssInstance,
  uses: ['messenger', 'storager'],
});
