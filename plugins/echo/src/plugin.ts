/**
 * echo: Flow's reference plugin. It uses every capability a plugin can have, each in the
 * smallest useful way, so you can copy this file and delete what you do not need.
 *
 * What it does (the same as Gotify's echo example):
 * - configurer: one setting, `magic_string` (default "hello world", must not be empty);
 * - webhooker:  `GET <webhook base>echo` counts the call, sends a message about it and
 *               answers with the magic string;
 * - storager:   the call counter lives in the instance's storage blob, so it survives
 *               restarts; the subscriber's counter shows the key-value store;
 * - messenger:  "Hello received" / "echo server received a hello message N times";
 * - displayer:  the absolute URL of the webhook, to click or curl;
 * - subscriber: counts the user's messages from other applications.
 *
 * Capabilities are not listed by hand: the kit reads them from the methods this class
 * defines (plus `uses` below for the host services it calls).
 */
import { ConfigError, definePlugin, PluginInstance, type DisplayLocation, type Message, type PluginHandlers, type WebhookReply, type WebhookRequest } from '@flow/plugin-kit';

/** The configuration as the user edits it (YAML): `magic_string: hello world`. */
interface EchoConfig {
  magic_string: string;
}

/** What the instance keeps in its storage blob, as JSON. Gotify's echo stores the same counter. */
interface EchoStorage {
  calledTimes: number;
}

const DEFAULT_CONFIG: Readonly<EchoConfig> = Object.freeze({ magic_string: 'hello world' });

/** Key-value key for the subscriber's counter. */
const SEEN_KEY = 'messages-seen';

/**
 * One instance per user. The kit constructs it when the host creates the instance, then
 * calls the methods below; `this.ctx` holds everything the instance may use (its user,
 * webhook base path, logger, storage, `send` and an abort signal). `implements
 * PluginHandlers` is optional: it makes the compiler check each method's signature.
 */
class Echo extends PluginInstance<EchoConfig> implements PluginHandlers<EchoConfig> {
  // The kit calls validateAndSetConfig with the stored config before enabling, but an
  // instance must still behave before that: start from the defaults.
  private config: EchoConfig = { ...DEFAULT_CONFIG };

  /**
   * Read-modify-write updates of storage run one at a time: two webhook calls arriving
   * together would otherwise both read N and both write N+1, and one hello would be lost.
   */
  private storageQueue: Promise<unknown> = Promise.resolve();

  // ---- lifecycle: both optional; throw from enable() to refuse and show the user why ----

  enable(): void {
    this.ctx.log.info('echo enabled', { user: this.ctx.user.name });
  }

  disable(): void {
    this.ctx.log.info('echo disabled');
  }

  // ---- configurer: defaultConfig and validateAndSetConfig come as a pair ----

  /** Returned as an object, the kit writes it as YAML. Return a string to keep comments. */
  defaultConfig(): EchoConfig {
    return { ...DEFAULT_CONFIG };
  }

  /**
   * Receives the user's YAML parsed and merged onto defaultConfig(). Throwing rejects it:
   * the message is shown to the user and the previous config stays in force. It must
   * accept the default config, or a new instance could never start.
   */
  validateAndSetConfig(config: EchoConfig): void {
    const value: unknown = config.magic_string;
    if (typeof value !== 'string') throw new ConfigError('magic_string must be text (quote it)');
    if (value.trim() === '') throw new ConfigError('magic_string must not be empty');
    this.config = { magic_string: value };
  }

  // ---- displayer: markdown for the plugin's page, asked for on every view, enabled or not ----

  /**
   * `location.webhookUrl` is the absolute URL prefix of this instance's webhooks as the user's
   * browser sees the server (proxy prefix included), ending in "/".
   */
  async getDisplay(location: DisplayLocation): Promise<string> {
    const url = `${location.webhookUrl}echo`;
    const { calledTimes } = await this.loadCounter();
    const seen = Number((await this.ctx.kv.get(SEEN_KEY)) ?? 0);
    return [
      `Echo server running at: [${url}](${url})`,
      '',
      `Calling it sends you a message and answers with the magic string. Called ${calledTimes} time${calledTimes === 1 ? '' : 's'} so far;`,
      `${seen} message${seen === 1 ? '' : 's'} from your other applications seen.`,
    ].join('\n');
  }

  // ---- webhooker: every HTTP request under the instance's base path lands here ----

  /**
   * `req.path` is relative to the base path ("/echo"). The host only forwards requests
   * while the instance is enabled; it answers 400 itself otherwise.
   */
  async handleWebhook(req: WebhookRequest): Promise<WebhookReply> {
    if (req.path !== '/echo') return { status: 404, body: 'not found' };
    if (req.method !== 'GET') return { status: 405, headers: { allow: 'GET' }, body: 'use GET' };

    const calledTimes = await this.countCall();

    // messenger: stored and streamed like a message posted to POST /message.
    await this.ctx.send({
      title: 'Hello received',
      message: `echo server received a hello message ${calledTimes} times`,
      priority: 2,
      extras: { 'plugin::name': 'echo' },
    });

    // A string body goes out as text/plain.
    return { status: 200, body: this.config.magic_string };
  }

  // ---- subscriber: the user's new messages from their other applications ----

  async onMessage(message: Message): Promise<void> {
    await this.exclusive(async () => {
      const seen = Number((await this.ctx.kv.get(SEEN_KEY)) ?? 0) + 1;
      await this.ctx.kv.set(SEEN_KEY, String(seen));
    });
    this.ctx.log.debug('message seen', { id: message.id, appid: message.appid });
  }

  // ---- storager helpers ----

  private async loadCounter(): Promise<EchoStorage> {
    // loadJSON is undefined until the first save.
    return (await this.ctx.storage.loadJSON<EchoStorage>()) ?? { calledTimes: 0 };
  }

  /** Adds one call to the stored counter and returns the new count. */
  private countCall(): Promise<number> {
    return this.exclusive(async () => {
      const calledTimes = (await this.loadCounter()).calledTimes + 1;
      await this.ctx.storage.saveJSON({ calledTimes } satisfies EchoStorage);
      return calledTimes;
    });
  }

  /** Runs `update` after every update queued before it. */
  private exclusive<T>(update: () => Promise<T>): Promise<T> {
    const result = this.storageQueue.then(update);
    // A failed update must not block every later one: the queue goes on either way.
    this.storageQueue = result.catch(() => undefined);
    return result;
  }
}

/**
 * The plugin itself. `modulePath` identifies it to the host (two plugins with the same one
 * cannot both run); `uses` lists the host services the instances call.
 */
export const plugin = definePlugin({
  info: {
    name: 'echo',
    modulePath: 'github.com/flow/plugins/echo',
    version: '1.0.0',
    description: 'The reference plugin: every capability, as Gotify\'s echo example.',
  },
  instance: Echo,
  uses: ['messenger', 'storager'],
});
