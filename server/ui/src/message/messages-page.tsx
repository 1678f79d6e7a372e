import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { applications } from '../application/applications';
import { errorMessage, request } from '../common/api';
import { ConfirmDialog } from '../common/confirm-dialog';
import { LoadState } from '../common/load-state';
import { notify } from '../common/notify';
import { useStore } from '../common/store';
import type { Message, PagedMessages } from '../common/types';
import { density, setDensity } from './density';
import { MessageItem } from './message-item';
import { onStreamMessage, onStreamReconnect } from './stream';
import { leaveMessages, viewMessages } from './unread';

const PAGE = 100;

interface MessagesPageProps {
  /** Only this application's messages; all of them when undefined. */
  appId?: number;
}

export function MessagesPage({ appId }: MessagesPageProps) {
  const apps = useStore(applications);
  const compact = useStore(density) === 'compact';
  const [messages, setMessages] = useState<Message[]>([]);
  const [next, setNext] = useState<number | null>(null);
  const [loading, setLoading] = useState(true);
  const [loadingMore, setLoadingMore] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [confirming, setConfirming] = useState(false);
  const sentinel = useRef<HTMLDivElement>(null);

  const listPath = appId === undefined ? 'message' : `application/${appId}/message`;
  const view = appId ?? 'all';
  const app = appId === undefined ? undefined : apps.find((a) => a.id === appId);

  const load = useCallback(async () => {
    setLoading(true);
    setError(null);
    try {
      const page = await request<PagedMessages>('GET', `${listPath}?limit=${PAGE}`);
      // Messages streamed in while this request was in flight are newer than the page: keep them.
      const newest = page.messages[0]?.id ?? 0;
      setMessages((list) => [...list.filter((m) => m.id > newest), ...page.messages]);
      setNext(page.paging.next ? page.paging.since : null);
      viewMessages(view, newest, applications.get().map((a) => a.id));
    } catch (err) {
      setError(err);
    } finally {
      setLoading(false);
    }
  }, [listPath]);

  useEffect(() => {
    setMessages([]);
    void load();
    return () => leaveMessages(view);
  }, [load]);

  useEffect(() => {
    const offMessage = onStreamMessage((message) => {
      if (appId !== undefined && message.appid !== appId) return;
      setMessages((list) => (list.some((m) => m.id === message.id) ? list : [message, ...list]));
    });
    const offReconnect = onStreamReconnect(() => void load());
    return () => {
      offMessage();
      offReconnect();
    };
  }, [appId, load]);

  const loadMore = useCallback(async () => {
    if (next === null || loadingMore) return;
    setLoadingMore(true);
    try {
      const page = await request<PagedMessages>('GET', `${listPath}?limit=${PAGE}&since=${next}`);
      setMessages((list) => {
        const have = new Set(list.map((m) => m.id));
        return [...list, ...page.messages.filter((m) => !have.has(m.id))];
      });
      setNext(page.paging.next ? page.paging.since : null);
    } catch (err) {
      notify.error(errorMessage(err));
    } finally {
      setLoadingMore(false);
    }
  }, [listPath, next, loadingMore]);

  // Infinite scroll: older messages load when the end of the list comes near. The observer is made anew
  // after each page, and a new observer reports at once, so a page too short to scroll keeps loading.
  useEffect(() => {
    const target = sentinel.current;
    if (!target || next === null || loadingMore || loading) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) void loadMore();
    }, { rootMargin: '0px 0px 600px 0px' });
    observer.observe(target);
    return () => observer.disconnect();
  }, [next, loadingMore, loading, loadMore]);

  const deleteOne = async (message: Message) => {
    try {
      await request('DELETE', `message/${message.id}`);
      setMessages((list) => list.filter((m) => m.id !== message.id));
    } catch (err) {
      notify.error(errorMessage(err));
    }
  };

  const deleteAll = async () => {
    await request('DELETE', listPath);
    setMessages([]);
    setNext(null);
    notify.info('Messages deleted');
  };

  const title = appId === undefined ? 'All Messages' : (app?.name ?? `Application ${appId}`);

  return (
    <section class="page messages-page">
      <div class="page-header">
        <h4>{title}</h4>
        <div class="page-actions">
          <button
            type="button"
            class="button density-toggle"
            aria-pressed={compact}
            title="Show more messages on the screen"
            onClick={() => setDensity(compact ? 'comfortable' : 'compact')}
          >
            Compact
          </button>
          <button type="button" class="button" onClick={() => void load()}>
            Refresh
          </button>
          <button
            type="button"
            id="delete-all"
            class="button danger"
            disabled={messages.length === 0}
            onClick={() => setConfirming(true)}
          >
            Delete all
          </button>
        </div>
      </div>
      {app?.description && <p class="page-subtitle">{app.description}</p>}
      <LoadState loading={loading && messages.length === 0} error={error} onRetry={() => void load()} />
      {!loading && !error && messages.length === 0 && (
        <p class="empty">
          No messages yet. They appear here as soon as {appId === undefined ? 'an application' : title} sends one with
          its token (<code>POST /message</code>); tokens are on the <a href="#/applications">Apps</a> page.
        </p>
      )}
      {messages.length > 0 && (
        <div id="messages" class={compact ? 'density-compact' : undefined} aria-busy={loadingMore}>
          {messages.map((message) => (
            <MessageItem
              key={message.id}
              message={message}
              app={apps.find((a) => a.id === message.appid)}
              onDelete={() => void deleteOne(message)}
            />
          ))}
        </div>
      )}
      <div ref={sentinel} class="scroll-sentinel" aria-hidden="true" />
      {next !== null && (
        // Scrolling loads them by itself; the button is for keyboards and for when scrolling is not possible.
        <button type="button" class="button load-more" disabled={loadingMore} onClick={() => void loadMore()}>
          {loadingMore ? 'Loading older messages…' : 'Load older messages'}
        </button>
      )}
      {next === null && messages.length > PAGE && <p class="end-of-list muted">That is all: no older messages.</p>}
      {confirming && (
        <ConfirmDialog
          title="Delete all messages"
          text={appId === undefined ? 'Delete every message of every application?' : `Delete all messages of ${title}?`}
          onConfirm={deleteAll}
          onClose={() => setConfirming(false)}
        />
      )}
    </section>
  );
}
