import { request } from '../common/api';
import { Store } from '../common/store';
import type { Application, Message, PagedMessages } from '../common/types';

/**
 * Unread messages per application since the user last looked at them, kept in this browser.
 *
 * Message ids grow with every message across all applications, so "seen" is one number per application:
 * the newest id the user has had on screen. An application the browser has never seen (created since, or by
 * a plugin) counts from `baseline`, the newest id at the first visit, so a first visit starts at zero
 * instead of calling every old message unread.
 */
interface SeenState {
  baseline: number;
  apps: Record<string, number>;
}

/** How many messages of one application are fetched to count; more shows as "100+". */
const COUNT_LIMIT = 100;

/** appId → unread count; applications with none are absent. */
export const unreadCounts = new Store<Record<number, number>>({});
/** Counts that hit COUNT_LIMIT (there may be more). */
export const unreadCapped = new Store<Set<number>>(new Set());

let storageKey: string | null = null;
let seen: SeenState | null = null;
/** The messages view on screen: one application, all of them, or none (another page). */
let viewing: number | 'all' | null = null;
let generation = 0;

function save(): void {
  if (storageKey && seen) {
    try {
      localStorage.setItem(storageKey, JSON.stringify(seen));
    } catch {
      // Storage full or disabled: the counts still work for this visit.
    }
  }
}

function lastSeen(appId: number): number {
  return seen ? (seen.apps[appId] ?? seen.baseline) : Number.MAX_SAFE_INTEGER;
}

function setCount(appId: number, count: number, capped = false): void {
  const counts = { ...unreadCounts.get() };
  if (count > 0) counts[appId] = count;
  else delete counts[appId];
  unreadCounts.set(counts);
  const caps = new Set(unreadCapped.get());
  if (capped) caps.add(appId);
  else caps.delete(appId);
  unreadCapped.set(caps);
}

function markAppSeen(appId: number, upToId: number): void {
  if (!seen) return;
  if (upToId > lastSeen(appId)) seen.apps[appId] = upToId;
  save();
  setCount(appId, 0);
}

/** Loads what this browser saw last for `userId` (the first visit sets the baseline). */
export async function startUnread(userId: number): Promise<void> {
  const gen = ++generation;
  storageKey = `flow-last-seen:${userId}`;
  seen = null;
  unreadCounts.set({});
  unreadCapped.set(new Set());
  let stored: SeenState | null = null;
  try {
    const parsed = JSON.parse(localStorage.getItem(storageKey) ?? 'null') as SeenState | null;
    if (parsed && typeof parsed.baseline === 'number' && typeof parsed.apps === 'object') stored = parsed;
  } catch {
    stored = null;
  }
  if (!stored) {
    const newest = await request<PagedMessages>('GET', 'message?limit=1');
    if (gen !== generation) return;
    stored = { baseline: newest.messages[0]?.id ?? 0, apps: {} };
  }
  seen = stored;
  save();
}

export function stopUnread(): void {
  generation++;
  storageKey = null;
  seen = null;
  viewing = null;
  unreadCounts.set({});
  unreadCapped.set(new Set());
}

/** Counts the unread messages of each application (after login, a reconnect, or when applications change). */
export async function refreshUnread(apps: Application[]): Promise<void> {
  const gen = generation;
  if (!seen) return;
  const known = new Set(apps.map((a) => a.id));
  for (const id of Object.keys(unreadCounts.get()).map(Number)) if (!known.has(id)) setCount(id, 0);
  for (const app of apps) {
    if (viewing === 'all' || viewing === app.id) continue;
    const page = await request<PagedMessages>('GET', `application/${app.id}/message?limit=${COUNT_LIMIT}`);
    if (gen !== generation || !seen) return;
    const since = lastSeen(app.id);
    const count = page.messages.filter((m) => m.id > since).length;
    setCount(app.id, count, count === COUNT_LIMIT && !!page.paging.next);
  }
}

/** A message arrived on the stream: unread unless its application's messages are on screen. */
export function countStreamMessage(message: Message): void {
  if (!seen) return;
  if (viewing === 'all' || viewing === message.appid) {
    markAppSeen(message.appid, message.id);
    return;
  }
  if (message.id <= lastSeen(message.appid)) return;
  setCount(message.appid, (unreadCounts.get()[message.appid] ?? 0) + 1, unreadCapped.get().has(message.appid));
}

/**
 * The messages page shows `view` and its newest message has id `newestId`: everything up to it is seen.
 * For all messages, every application is seen up to that id (ids are shared by all applications).
 */
export function viewMessages(view: number | 'all', newestId: number, appIds: number[]): void {
  viewing = view;
  if (!seen) return;
  if (view === 'all') {
    for (const id of new Set([...appIds, ...Object.keys(unreadCounts.get()).map(Number)])) markAppSeen(id, newestId);
  } else {
    markAppSeen(view, newestId);
  }
}

/** The messages page went away: new messages count as unread again. */
export function leaveMessages(view: number | 'all'): void {
  if (viewing === view) viewing = null;
}

/** "3", or "100+" when there may be more than were counted. */
export function unreadLabel(appId: number, counts: Record<number, number>, capped: Set<number>): string | null {
  const n = counts[appId];
  if (!n) return null;
  return capped.has(appId) ? `${n}+` : String(n);
}
