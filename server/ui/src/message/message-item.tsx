import { AppAvatar } from '../application/app-avatar';
import { renderMarkdown } from '../common/markdown';
import { fullDate, timeAgo } from '../common/date';
import type { Application, Message } from '../common/types';
import { Icon } from '../common/icons';
import { priorityLevel } from './priority';

function isMarkdown(message: Message): boolean {
  const display = message.extras?.['client::display'];
  return (
    typeof display === 'object' &&
    display !== null &&
    (display as { contentType?: unknown }).contentType === 'text/markdown'
  );
}

interface MessageItemProps {
  message: Message;
  app: Application | undefined;
  onDelete: () => void;
}

export function MessageItem({ message, app, onDelete }: MessageItemProps) {
  const appName = app?.name ?? `Application ${message.appid}`;
  const level = priorityLevel(message.priority);
  return (
    <article class={`message card priority-${level}`} data-id={message.id} data-priority={message.priority}>
      <AppAvatar app={app} name={appName} />
      <div class="message-body">
        <header class="message-header">
          <h3 class="title">{message.title}</h3>
          <span class="message-meta">
            <span class="app-name">{appName}</span>
            {' · '}
            <time class="date" dateTime={message.date} title={fullDate(message.date)}>
              {timeAgo(message.date)}
            </time>
            {(message.priority > 0 || level !== 'low') && (
              <span class={`badge priority priority-${level}`} title={`Priority ${message.priority}`}>
                {level} · {message.priority}
              </span>
            )}
          </span>
          <button
            type="button"
            class="icon-button delete"
            aria-label={`Delete message ${message.title || message.id}`}
            title="Delete"
            onClick={onDelete}
          >
            <Icon name="trash" />
          </button>
        </header>
        {isMarkdown(message) ? (
          <div class="content markdown" dangerouslySetInnerHTML={{ __html: renderMarkdown(message.message) }} />
        ) : (
          <div class="content plain">{message.message}</div>
        )}
      </div>
    </article>
  );
}
