import { definePlugin, PluginInstance, type DisplayLocation, type PluginHandlers, type WebhookReply, type WebhookRequest } from '@flow/plugin-kit';
import { defaultConfigYaml, parseConfig, type GithubConfig } from './config.js';
import { describeEvent, isSupportedEvent, PayloadError } from './events.js';
import { escapeInline } from './markdown.js';
import { verifySignature } from './signature.js';

/** Path of the payload URL under the instance's webhook base path. */
export const PAYLOAD_PATH = '/webhook';

/** The boxes to tick under "Let me select individual events", in GitHub's words. */
const GITHUB_EVENT_LABELS = ['Pushes', 'Pull requests', 'Issues', 'Issue comments', 'Releases', 'Workflow runs'];

interface LastDelivery {
  at: Date;
  event: string;
  outcome: string;
}

/** One receiver per user: checks each delivery's signature and turns it into a message. */
class GithubReceiver extends PluginInstance<unknown> implements PluginHandlers<unknown> {
  private config: GithubConfig = parseConfig({});
  /** Shown on the display, so a user can tell "GitHub never called" from "GitHub called and was refused". */
  private last: LastDelivery | undefined;

  defaultConfig(): string {
    return defaultConfigYaml();
  }

  validateAndSetConfig(config: unknown): void {
    this.config = parseConfig(config);
  }

  getDisplay(location: DisplayLocation): string {
    const url = `${location.webhookUrl}${PAYLOAD_PATH.slice(1)}`.replace(/`/g, '');
    const lines = [
      `**Payload URL:** \`${url}\``,
      '',
      'In your repository or organization, open **Settings → Webhooks → Add webhook** and fill in:',
      '',
      '| Field | Value |',
      '| --- | --- |',
      `| Payload URL | \`${url}\` |`,
      '| Content type | `application/json` |',
      '| Secret | the `secret` value from this plugin\'s configuration |',
      `| Which events | *Let me select individual events*: ${GITHUB_EVENT_LABELS.join(', ')} |`,
      '',
      this.config.secret === ''
        ? '**No secret is configured yet**: every delivery is refused with 401. Set `secret` in the configuration, then paste the same value into GitHub.'
        : 'A secret is configured. Deliveries without a valid `X-Hub-Signature-256` are refused with 401.',
    ];
    if (this.last !== undefined) {
      lines.push('', `Last delivery: \`${this.last.event}\` at ${this.last.at.toISOString()}: ${escapeInline(this.last.outcome)}.`);
    }
    return lines.join('\n');
  }

  async handleWebhook(req: WebhookRequest): Promise<WebhookReply> {
    if (req.path !== PAYLOAD_PATH) return text(404, 'not found');
    if (req.method !== 'POST') return { ...text(405, 'use POST'), headers: { allow: 'POST' } };

    // The signature covers the raw bytes, so it is checked before anything reads them.
    const delivery = req.headers['x-github-delivery'];
    if (!verifySignature(this.config.secret, req.body, req.headers['x-hub-signature-256'])) {
      const reason = this.config.secret === '' ? 'no secret configured' : 'missing or invalid X-Hub-Signature-256';
      this.ctx.log.warn('delivery refused', { reason, delivery });
      return this.record(req, text(401, `refused: ${reason}`), `refused (${reason})`);
    }

    const event = req.headers['x-github-event'] ?? '';
    if (!isSupportedEvent(event)) return this.record(req, { status: 204 }, 'event not supported, ignored');

    let outcome;
    try {
      outcome = describeEvent(event, parsePayload(req));
    } catch (error) {
      if (!(error instanceof SyntaxError || error instanceof PayloadError)) throw error;
      this.ctx.log.warn('malformed payload', { event, delivery, error: error.message });
      return this.record(req, text(400, `malformed payload: ${error.message}`), 'malformed payload');
    }
    if (outcome.kind === 'ignored') return this.record(req, text(200, `ignored: ${outcome.reason}`), outcome.reason);

    const extras: Record<string, unknown> = { 'client::display': { contentType: 'text/markdown' } };
    if (outcome.url !== undefined) extras['client::notification'] = { click: { url: outcome.url } };
    const { id } = await this.ctx.send({
      title: outcome.title,
      message: outcome.markdown,
      priority: this.config.priorities[outcome.priority],
      extras,
    });
    return this.record(req, text(200, `sent message ${id}`), `sent message ${id}`);
  }

  private record(req: WebhookRequest, reply: WebhookReply, outcome: string): WebhookReply {
    this.last = { at: new Date(), event: (req.headers['x-github-event'] ?? 'unknown').slice(0, 64).replace(/[^\w.-]/g, ''), outcome };
    return reply;
  }
}

/** GitHub sends JSON, or `payload=<json>` when the hook's content type is form-encoded. */
function parsePayload(req: WebhookRequest): unknown {
  const type = (req.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded') {
    const payload = new URLSearchParams(req.text()).get('payload');
    if (payload === null) throw new PayloadError('form body has no payload field');
    return JSON.parse(payload);
  }
  return req.json();
}

function text(status: number, body: string): WebhookReply {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body };
}

export const plugin = definePlugin({
  info: {
    name: 'GitHub webhooks',
    modulePath: 'github.com/flow/plugins/github',
    version: '1.0.0',
    description: 'Receives signed GitHub webhooks (push, pull requests, issues, comments, releases, workflow runs) as markdown messages.',
  },
  instance: GithubReceiver,
  uses: ['messenger'],
  secretKeys: ['secret'],
});
