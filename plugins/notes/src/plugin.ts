import { ConfigError, definePlugin, PluginInstance, type DisplayLocation, type PluginHandlers, type WebhookReply, type WebhookRequest } from '@flow/plugin-kit';
import { issueToken, newSecret, verifyToken } from './csrf.js';
import { MAX_NOTE_CHARS, MAX_TITLE_CHARS, renderPage, renderRefusal, SECURITY_HEADERS, type FormState, type RecentNote } from './page.js';

interface NotesConfig {
  /** Title of a note whose title field was left empty. */
  title: string;
  priority: number;
}

const DEFAULT_CONFIG: NotesConfig = { title: 'Note', priority: 5 };

/** Storage keys. The secret is created on first use and kept, so tokens survive restarts. */
const SECRET_KEY = 'csrf-secret';
const RECENT_KEY = 'recent';
const RECENT_COUNT = 10;

/**
 * A small web page under the instance's webhook route: `GET <base>` shows a form, `POST <base>`
 * sends the note as a message and redirects back (303, post/redirect/get). `POST <base>notes`
 * is accepted too: pages served before the form posted to "?" still post there.
 */
class Notes extends PluginInstance<NotesConfig> implements PluginHandlers<NotesConfig> {
  private config: NotesConfig = { ...DEFAULT_CONFIG };
  /** Memoised so that concurrent first requests agree on one secret. */
  private secret: Promise<string> | undefined;
  private recentQueue: Promise<unknown> = Promise.resolve();

  defaultConfig(): string {
    return [
      '# Title of a note whose title field is left empty.',
      `title: ${DEFAULT_CONFIG.title}`,
      '# Priority of the messages notes are sent as (0-10).',
      `priority: ${DEFAULT_CONFIG.priority}`,
      '',
    ].join('\n');
  }

  validateAndSetConfig(config: NotesConfig): void {
    const { title, priority } = config as { title: unknown; priority: unknown };
    if (typeof title !== 'string' || title.trim() === '') throw new ConfigError('title must be non-empty text');
    if (title.length > MAX_TITLE_CHARS) throw new ConfigError(`title must be at most ${MAX_TITLE_CHARS} characters`);
    if (typeof priority !== 'number' || !Number.isInteger(priority) || priority < 0 || priority > 10) {
      throw new ConfigError('priority must be a whole number from 0 to 10');
    }
    this.config = { title: title.trim(), priority };
  }

  getDisplay(location: DisplayLocation): string {
    return [
      `[Open the notes page](${location.webhookUrl}) to post a note to yourself.`,
      '',
      `Each note arrives as a message with priority ${this.config.priority}; notes without a title are titled "${this.config.title.replace(/[!-/:-@[-`{-~]/g, (c) => `\\${c}`)}".`,
      'The page only works while the plugin is enabled.',
    ].join('\n');
  }

  async handleWebhook(req: WebhookRequest): Promise<WebhookReply> {
    if (req.path === '/') {
      if (req.method === 'POST') return this.post(req, '?');
      if (req.method !== 'GET' && req.method !== 'HEAD') return plain(405, 'use GET or POST', { allow: 'GET, HEAD, POST' });
      const sent = /^\d{1,15}$/.test(req.query.get('sent') ?? '') ? req.query.get('sent') : null;
      return this.page(200, sent === null ? {} : { banner: { kind: 'ok', text: `Note sent (message ${sent}).` } });
    }
    if (req.path === '/notes') {
      if (req.method !== 'POST') return plain(405, 'use POST', { allow: 'POST' });
      return this.post(req, './');
    }
    return plain(404, 'not found');
  }

  /** `back` is the page's URL relative to this request's: "?" from the page itself, "./" from `<base>notes`. */
  private async post(req: WebhookRequest, back: '?' | './'): Promise<WebhookReply> {
    const crossSite = crossSiteReason(req);
    if (crossSite !== undefined) {
      this.ctx.log.warn('note refused', { reason: crossSite });
      return html(403, renderRefusal('This form was sent from another site.', back));
    }
    const type = (req.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') return plain(415, 'send the form as application/x-www-form-urlencoded');
    const form = new URLSearchParams(req.text());
    if (!verifyToken(await this.csrfSecret(), form.get('csrf'))) {
      this.ctx.log.warn('note refused', { reason: 'missing or invalid CSRF token' });
      return html(403, renderRefusal('The form expired or did not come from this page. Go back, reload it and send the note again.', back));
    }

    const title = (form.get('title') ?? '').trim();
    const note = (form.get('note') ?? '').replace(/\r\n/g, '\n');
    let problem: string | undefined;
    if (note.trim() === '') problem = 'Write a note first.';
    else if (note.length > MAX_NOTE_CHARS) problem = `A note can be at most ${MAX_NOTE_CHARS} characters (this one has ${note.length}).`;
    else if (title.length > MAX_TITLE_CHARS) problem = `A title can be at most ${MAX_TITLE_CHARS} characters.`;
    if (problem !== undefined) return this.page(400, { banner: { kind: 'error', text: problem }, title, note });

    const { id } = await this.ctx.send({ title: title || this.config.title, message: note, priority: this.config.priority });
    await this.remember({ id, title: title || this.config.title, text: note, at: new Date().toISOString() });
    // Query-only from the page's own URL, so it stays right whether or not that URL ended in "/".
    return { status: 303, headers: { ...SECURITY_HEADERS, location: `${back === '?' ? '' : './'}?sent=${id}` } };
  }

  private async page(status: number, state: Omit<FormState, 'token' | 'recent'>): Promise<WebhookReply> {
    const [secret, recent] = await Promise.all([this.csrfSecret(), this.recent()]);
    return html(status, renderPage({ ...state, token: issueToken(secret), recent }));
  }

  private csrfSecret(): Promise<string> {
    if (this.secret === undefined) {
      const loading = (async () => {
        const stored = await this.ctx.kv.get(SECRET_KEY);
        if (stored !== null && stored !== '') return stored;
        const created = newSecret();
        await this.ctx.kv.set(SECRET_KEY, created);
        return created;
      })();
      this.secret = loading;
      // A failed storage call is not remembered: the next request tries again.
      loading.catch(() => {
        if (this.secret === loading) this.secret = undefined;
      });
    }
    return this.secret;
  }

  private async recent(): Promise<RecentNote[]> {
    const raw = await this.ctx.kv.get(RECENT_KEY);
    if (raw === null) return [];
    try {
      const parsed: unknown = JSON.parse(raw);
      return Array.isArray(parsed) ? (parsed as RecentNote[]) : [];
    } catch {
      return [];
    }
  }

  /** Keeps the last RECENT_COUNT notes, newest first; updates run one at a time so none is lost. */
  private remember(note: RecentNote): Promise<void> {
    const update = this.recentQueue.then(async () => {
      const list = [{ ...note, text: note.text.slice(0, 500) }, ...(await this.recent())].slice(0, RECENT_COUNT);
      await this.ctx.kv.set(RECENT_KEY, JSON.stringify(list));
    });
    this.recentQueue = update.catch((error: unknown) => this.ctx.log.warn('could not store the recent notes list', { error: String(error) }));
    return this.recentQueue.then(() => undefined);
  }
}

/**
 * Why a POST looks cross-site, or undefined. Browsers send Origin on every form POST and
 * Sec-Fetch-Site on most: a POST whose Origin is not this server (as the browser reached it,
 * proxy host included) was made by another site's page. Without either header (curl, old
 * browsers) the CSRF token alone decides.
 */
function crossSiteReason(req: WebhookRequest): string | undefined {
  const fetchSite = req.headers['sec-fetch-site'];
  if (fetchSite !== undefined && fetchSite !== 'same-origin' && fetchSite !== 'none') return `Sec-Fetch-Site: ${fetchSite}`;
  const origin = req.headers.origin;
  if (origin === undefined) return undefined;
  const host = (req.headers['x-forwarded-host'] ?? req.headers.host ?? '').split(',', 1)[0]!.trim().toLowerCase();
  let originHost: string;
  try {
    originHost = new URL(origin).host.toLowerCase();
  } catch {
    return `Origin: ${origin.slice(0, 100)}`;
  }
  return host !== '' && originHost === host ? undefined : `Origin ${origin.slice(0, 100)} is not ${host || 'this host'}`;
}

function html(status: number, body: string): WebhookReply {
  return { status, headers: { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8' }, body };
}

function plain(status: number, body: string, extra: Record<string, string> = {}): WebhookReply {
  return { status, headers: { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8', ...extra }, body };
}

export const plugin = definePlugin({
  info: {
    name: 'notes',
    modulePath: 'github.com/flow/plugins/notes',
    version: '1.0.0',
    description: 'A small web page, linked from the plugin page, to post a note to yourself.',
  },
  instance: Notes,
  uses: ['messenger', 'storager'],
});
