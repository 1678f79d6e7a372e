import { escapeInline, firstLine, link, plainTitle, quote, safeUrl } from './markdown.js';

/** Events this plugin turns into messages (the `X-GitHub-Event` header). */
export const SUPPORTED_EVENTS = ['ping', 'push', 'pull_request', 'issues', 'issue_comment', 'release', 'workflow_run'] as const;
export type SupportedEvent = (typeof SUPPORTED_EVENTS)[number];

/** Config keys of the per-event priorities; a failed workflow run has its own. */
export type PriorityKey = SupportedEvent | 'workflow_run_failure';

/** What one delivery becomes. */
export type EventOutcome =
  | { kind: 'message'; title: string; markdown: string; url: string | undefined; priority: PriorityKey }
  /** A supported event whose action is not worth a notification (a label added, a run queued). */
  | { kind: 'ignored'; reason: string };

/** The payload is valid JSON but lacks a field the message needs. */
export class PayloadError extends Error {}

/** How many commits a push message lists before "…and N more". */
const MAX_COMMITS = 10;

export function isSupportedEvent(event: string): event is SupportedEvent {
  return (SUPPORTED_EVENTS as readonly string[]).includes(event);
}

/**
 * Turns a parsed, signature-checked payload into a message. The payload is still treated as
 * untrusted in shape and content: a missing field is a PayloadError, never a crash, and
 * every string that a GitHub user wrote goes through the markdown escapers.
 */
export function describeEvent(event: SupportedEvent, payload: unknown): EventOutcome {
  if (!isObject(payload)) throw new PayloadError('payload is not a JSON object');
  return FORMATTERS[event](payload);
}

type Payload = Record<string, unknown>;

const FORMATTERS: Record<SupportedEvent, (p: Payload) => EventOutcome> = {
  ping(p) {
    const where = str(p, 'repository', 'full_name') ?? str(p, 'organization', 'login') ?? 'GitHub';
    const events = get(p, 'hook', 'events');
    const list = Array.isArray(events) ? events.filter((e): e is string => typeof e === 'string') : [];
    const lines = [`GitHub connected this webhook${list.length > 0 ? ` for: ${escapeInline(list.join(', '))}` : ''}.`];
    const zen = str(p, 'zen');
    if (zen !== undefined) lines.push('', `*${escapeInline(zen)}*`);
    return message(`${where}: webhook connected`, lines, str(p, 'repository', 'html_url'), 'ping');
  },

  push(p) {
    const repo = need(p, 'repository', 'full_name');
    const ref = need(p, 'ref');
    const isTag = ref.startsWith('refs/tags/');
    const name = ref.replace(/^refs\/(heads|tags)\//, '');
    const kind = isTag ? 'tag' : 'branch';
    const who = str(p, 'pusher', 'name') ?? str(p, 'sender', 'login') ?? 'someone';
    const url = str(p, 'compare') ?? str(p, 'repository', 'html_url');
    if (get(p, 'deleted') === true) {
      return message(`${repo}: ${kind} ${name} deleted`, [`**${escapeInline(who)}** deleted ${kind} **${escapeInline(name)}**.`], str(p, 'repository', 'html_url'), 'push');
    }
    const commits = (Array.isArray(p.commits) ? p.commits : []).filter(isObject);
    if (isTag || commits.length === 0) {
      const verb = get(p, 'created') === true ? 'created' : 'updated';
      return message(`${repo}: ${kind} ${name} ${verb}`, [`**${escapeInline(who)}** ${verb} ${kind} **${escapeInline(name)}**.`], url, 'push');
    }
    const forced = get(p, 'forced') === true ? ' (force-pushed)' : '';
    const n = commits.length;
    const lines = [`**${escapeInline(who)}** pushed ${n} commit${n === 1 ? '' : 's'} to **${escapeInline(name)}**${forced}:`, ''];
    for (const c of commits.slice(0, MAX_COMMITS)) {
      const id = str(c, 'id') ?? '';
      const sha = /^[0-9a-f]{7,64}$/i.test(id) ? id.slice(0, 7) : 'commit';
      const author = str(c, 'author', 'username') ?? str(c, 'author', 'name');
      lines.push(`- ${link(sha, str(c, 'url'))} ${firstLine(str(c, 'message') ?? '')}${author ? ` (${escapeInline(author)})` : ''}`);
    }
    if (n > MAX_COMMITS) lines.push(`- …and ${n - MAX_COMMITS} more`);
    return message(`${repo}: ${n} new commit${n === 1 ? '' : 's'} to ${name}`, lines, url, 'push');
  },

  pull_request(p) {
    const action = need(p, 'action');
    const repo = need(p, 'repository', 'full_name');
    const pr = obj(p, 'pull_request');
    const number = num(pr, 'number') ?? num(p, 'number');
    if (number === undefined) throw new PayloadError('payload is missing pull_request.number');
    let verb: string;
    if (action === 'closed') verb = get(pr, 'merged') === true ? 'merged' : 'closed';
    else if (action === 'opened' || action === 'reopened') verb = action;
    else if (action === 'ready_for_review') verb = 'marked ready for review';
    else return ignored('pull_request', action);
    const who = str(p, 'sender', 'login') ?? str(pr, 'user', 'login') ?? 'someone';
    const title = str(pr, 'title') ?? '';
    const url = str(pr, 'html_url');
    const lines = [`**${escapeInline(who)}** ${verb} pull request ${link(`#${number} ${title}`, url)}`];
    const head = str(pr, 'head', 'ref');
    const base = str(pr, 'base', 'ref');
    if (head !== undefined && base !== undefined) lines.push('', `${escapeInline(head)} → ${escapeInline(base)}`);
    if (action === 'opened') pushQuote(lines, str(pr, 'body'));
    return message(`${repo}: PR #${number} ${verb}: ${title}`, lines, url, 'pull_request');
  },

  issues(p) {
    const action = need(p, 'action');
    const repo = need(p, 'repository', 'full_name');
    const issue = obj(p, 'issue');
    const number = num(issue, 'number');
    if (number === undefined) throw new PayloadError('payload is missing issue.number');
    let verb: string;
    if (action === 'closed') verb = str(issue, 'state_reason') === 'not_planned' ? 'closed as not planned' : 'closed';
    else if (action === 'opened' || action === 'reopened') verb = action;
    else return ignored('issues', action);
    const who = str(p, 'sender', 'login') ?? str(issue, 'user', 'login') ?? 'someone';
    const title = str(issue, 'title') ?? '';
    const url = str(issue, 'html_url');
    const lines = [`**${escapeInline(who)}** ${verb} issue ${link(`#${number} ${title}`, url)}`];
    if (action === 'opened') pushQuote(lines, str(issue, 'body'));
    return message(`${repo}: issue #${number} ${verb}: ${title}`, lines, url, 'issues');
  },

  issue_comment(p) {
    const action = need(p, 'action');
    if (action !== 'created') return ignored('issue_comment', action);
    const repo = need(p, 'repository', 'full_name');
    const issue = obj(p, 'issue');
    const comment = obj(p, 'comment');
    const number = num(issue, 'number');
    if (number === undefined) throw new PayloadError('payload is missing issue.number');
    // GitHub sends comments on pull requests as issue_comment too; the issue then has a pull_request key.
    const what = get(issue, 'pull_request') !== undefined ? 'pull request' : 'issue';
    const who = str(comment, 'user', 'login') ?? str(p, 'sender', 'login') ?? 'someone';
    const title = str(issue, 'title') ?? '';
    const url = str(comment, 'html_url') ?? str(issue, 'html_url');
    const lines = [`**${escapeInline(who)}** commented on ${what} ${link(`#${number} ${title}`, url)}`];
    pushQuote(lines, str(comment, 'body'));
    return message(`${repo}: ${who} commented on #${number}: ${title}`, lines, url, 'issue_comment');
  },

  release(p) {
    const action = need(p, 'action');
    if (action !== 'published') return ignored('release', action);
    const repo = need(p, 'repository', 'full_name');
    const release = obj(p, 'release');
    const tag = str(release, 'tag_name');
    if (tag === undefined) throw new PayloadError('payload is missing release.tag_name');
    const name = str(release, 'name') || tag;
    const pre = get(release, 'prerelease') === true ? 'pre-release' : 'release';
    const who = str(release, 'author', 'login') ?? str(p, 'sender', 'login') ?? 'someone';
    const url = str(release, 'html_url');
    const lines = [`**${escapeInline(who)}** published ${pre} ${link(name, url)}${name === tag ? '' : ` (${escapeInline(tag)})`}`];
    pushQuote(lines, str(release, 'body'));
    return message(`${repo}: ${pre} ${name}`, lines, url, 'release');
  },

  workflow_run(p) {
    const action = need(p, 'action');
    if (action !== 'completed') return ignored('workflow_run', action);
    const repo = need(p, 'repository', 'full_name');
    const run = obj(p, 'workflow_run');
    const conclusion = str(run, 'conclusion') ?? 'unknown';
    const failed = ['failure', 'timed_out', 'startup_failure'].includes(conclusion);
    const workflow = str(run, 'name') ?? str(p, 'workflow', 'name') ?? 'workflow';
    const branch = str(run, 'head_branch');
    const runNumber = num(run, 'run_number');
    const url = str(run, 'html_url');
    const label = `${workflow}${runNumber === undefined ? '' : ` #${runNumber}`}`;
    const lines = [`Workflow ${link(label, url)}: **${escapeInline(conclusion.replace(/_/g, ' '))}**`];
    const runTitle = str(run, 'display_title');
    const actor = str(run, 'actor', 'login');
    const details = [branch && `branch ${escapeInline(branch)}`, runTitle && firstLine(runTitle), actor && `by ${escapeInline(actor)}`].filter(
      (d): d is string => typeof d === 'string' && d !== '',
    );
    if (details.length > 0) lines.push('', details.join(' · '));
    const verdict = failed ? 'failed' : conclusion.replace(/_/g, ' ');
    return message(`${repo}: ${workflow} ${verdict}${branch === undefined ? '' : ` on ${branch}`}`, lines, url, failed ? 'workflow_run_failure' : 'workflow_run');
  },
};

function message(title: string, lines: string[], url: string | undefined, priority: PriorityKey): EventOutcome {
  return { kind: 'message', title: plainTitle(title), markdown: lines.join('\n'), url: safeUrl(url), priority };
}

function ignored(event: SupportedEvent, action: string): EventOutcome {
  return { kind: 'ignored', reason: `${event} action "${action.slice(0, 64)}" is not notified` };
}

function pushQuote(lines: string[], body: string | undefined): void {
  const q = quote(body ?? '');
  if (q !== '') lines.push('', q);
}

function isObject(value: unknown): value is Payload {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function get(value: unknown, ...path: string[]): unknown {
  let cur = value;
  for (const key of path) {
    if (!isObject(cur)) return undefined;
    cur = cur[key];
  }
  return cur;
}

function str(value: unknown, ...path: string[]): string | undefined {
  const v = get(value, ...path);
  return typeof v === 'string' ? v : undefined;
}

function num(value: unknown, ...path: string[]): number | undefined {
  const v = get(value, ...path);
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function obj(value: unknown, key: string): Payload {
  const v = get(value, key);
  if (!isObject(v)) throw new PayloadError(`payload is missing ${key}`);
  return v;
}

function need(value: unknown, ...path: string[]): string {
  const v = str(value, ...path);
  if (v === undefined) throw new PayloadError(`payload is missing ${path.join('.')}`);
  return v;
}
