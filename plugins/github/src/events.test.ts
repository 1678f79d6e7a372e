import { readFileSync } from 'node:fs';
import { Marked } from 'marked';
import { describe, expect, it } from 'vitest';
import { describeEvent, isSupportedEvent, PayloadError, type EventOutcome, type SupportedEvent } from './events.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../test/fixtures/${name}.json`, import.meta.url), 'utf8'));
const marked = new Marked({ gfm: true, breaks: true, async: false });

function messageOf(outcome: EventOutcome): Extract<EventOutcome, { kind: 'message' }> {
  if (outcome.kind !== 'message') throw new Error(`expected a message, got ${JSON.stringify(outcome)}`);
  return outcome;
}

/** Every href in the rendered message: user text must never add one. */
function hrefs(markdown: string): string[] {
  const html = marked.parse(markdown) as string;
  expect(html).not.toMatch(/<(img|script|b|h1)\b/);
  return [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]!);
}

describe('describeEvent', () => {
  it('push: lists commit subjects, links the compare view', () => {
    const m = messageOf(describeEvent('push', fixture('push')));
    expect(m.title).toBe('octo-org/flow: 2 new commits to main');
    expect(m.url).toBe('https://github.com/octo-org/flow/compare/6113728f27ae...0d1a26e67d8f');
    expect(m.priority).toBe('push');
    expect(m.markdown).toContain('**monalisa** pushed 2 commits to **main**');
    expect(m.markdown).not.toContain('Long description');
    expect(hrefs(m.markdown)).toEqual([
      'https://github.com/octo-org/flow/commit/a10867b14bb761a232cd80139fbd4c0d33264240',
      'https://github.com/octo-org/flow/commit/0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c',
    ]);
  });

  it('push: a deleted branch and a new tag', () => {
    const deleted = { ...(fixture('push') as object), deleted: true, commits: [], ref: 'refs/heads/old' };
    expect(messageOf(describeEvent('push', deleted)).title).toBe('octo-org/flow: branch old deleted');
    const tag = { ...(fixture('push') as object), created: true, commits: [], ref: 'refs/tags/v2.0.0' };
    expect(messageOf(describeEvent('push', tag)).title).toBe('octo-org/flow: tag v2.0.0 created');
  });

  it('push: caps the commit list', () => {
    const push = fixture('push') as { commits: unknown[] };
    const many = { ...push, commits: Array.from({ length: 25 }, () => push.commits[1]) };
    const m = messageOf(describeEvent('push', many));
    expect(m.markdown.split('\n').filter((l) => l.startsWith('- '))).toHaveLength(11);
    expect(m.markdown).toContain('…and 15 more');
  });

  it('pull_request opened: escaped title and body, link to the PR', () => {
    const m = messageOf(describeEvent('pull_request', fixture('pull_request.opened')));
    expect(m.title).toBe('octo-org/flow: PR #42 opened: Support <b>bold</b> titles & [links](javascript:alert(1))');
    expect(m.url).toBe('https://github.com/octo-org/flow/pull/42');
    expect(m.priority).toBe('pull_request');
    expect(hrefs(m.markdown)).toEqual(['https://github.com/octo-org/flow/pull/42']);
    expect(marked.parse(m.markdown)).toContain('#42 Support &lt;b&gt;bold&lt;/b&gt; titles &amp; [links](javascript:alert(1))');
  });

  it('pull_request closed with merged: says merged', () => {
    expect(messageOf(describeEvent('pull_request', fixture('pull_request.closed'))).title).toBe('octo-org/flow: PR #42 merged: Support bold titles');
  });

  it('pull_request labeled: ignored, not an error', () => {
    expect(describeEvent('pull_request', fixture('pull_request.labeled'))).toEqual({ kind: 'ignored', reason: 'pull_request action "labeled" is not notified' });
  });

  it('issues opened: a title starting with # stays text', () => {
    const m = messageOf(describeEvent('issues', fixture('issues.opened')));
    expect(m.title).toBe('octo-org/flow: issue #7 opened: # Crash when the feed is empty');
    expect(hrefs(m.markdown)).toEqual(['https://github.com/octo-org/flow/issues/7']);
  });

  it('issue_comment on a pull request: links the comment', () => {
    const m = messageOf(describeEvent('issue_comment', fixture('issue_comment.created')));
    expect(m.title).toBe('octo-org/flow: monalisa commented on #42: Support bold titles');
    expect(m.markdown).toContain('commented on pull request');
    expect(m.url).toBe('https://github.com/octo-org/flow/pull/42#issuecomment-2030400500');
    expect(hrefs(m.markdown)).toEqual([m.url]);
  });

  it('release published', () => {
    const m = messageOf(describeEvent('release', fixture('release.published')));
    expect(m.title).toBe('octo-org/flow: release Flow 1.2.0');
    expect(m.url).toBe('https://github.com/octo-org/flow/releases/tag/v1.2.0');
    expect(m.markdown).toContain('(v1\\.2\\.0)');
  });

  it('workflow_run: failure gets its own priority key', () => {
    const failed = messageOf(describeEvent('workflow_run', fixture('workflow_run.failure')));
    expect(failed.title).toBe('octo-org/flow: CI failed on main');
    expect(failed.priority).toBe('workflow_run_failure');
    expect(failed.url).toBe('https://github.com/octo-org/flow/actions/runs/8512345678');
    const ok = messageOf(describeEvent('workflow_run', fixture('workflow_run.success')));
    expect(ok.title).toBe('octo-org/flow: CI success on feature/titles');
    expect(ok.priority).toBe('workflow_run');
  });

  it('ping: names the repository and its events', () => {
    const m = messageOf(describeEvent('ping', fixture('ping')));
    expect(m.title).toBe('octo-org/flow: webhook connected');
    expect(m.url).toBe('https://github.com/octo-org/flow');
    expect(m.priority).toBe('ping');
  });

  it('knows exactly the seven events', () => {
    expect(['ping', 'push', 'pull_request', 'issues', 'issue_comment', 'release', 'workflow_run'].every(isSupportedEvent)).toBe(true);
    expect(['star', 'fork', 'PUSH', ''].some(isSupportedEvent)).toBe(false);
  });

  it.each([
    ['push', []],
    ['push', { ref: 'refs/heads/main' }],
    ['pull_request', { action: 'opened', repository: { full_name: 'o/r' } }],
    ['issues', { action: 'opened', repository: { full_name: 'o/r' }, issue: { title: 'no number' } }],
    ['release', { action: 'published', repository: { full_name: 'o/r' }, release: {} }],
  ] as Array<[SupportedEvent, unknown]>)('%s with a payload missing fields: PayloadError', (event, payload) => {
    expect(() => describeEvent(event, payload)).toThrow(PayloadError);
  });

  it('a non-http link target from the payload becomes plain text', () => {
    const pr = fixture('pull_request.opened') as { pull_request: Record<string, unknown> };
    pr.pull_request.html_url = 'javascript:alert(1)';
    const m = messageOf(describeEvent('pull_request', pr));
    expect(m.url).toBeUndefined();
    expect(hrefs(m.markdown)).toEqual([]);
  });
});
