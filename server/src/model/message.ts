/** A stored message. `userId` is the owner of `appId`, kept to maintain the per-user index. */
export interface MessageRecord {
  id: number;
  appId: number;
  userId: number;
  message: string;
  title: string;
  priority: number;
  /** Absent when the sender gave none or an empty object. */
  extras?: Record<string, unknown>;
  /** ISO-8601 time the server accepted the message. */
  date: string;
}

/** Wire shape (Gotify `MessageExternal`): `extras` is omitted when empty. */
export interface MessageExternal {
  id: number;
  appid: number;
  message: string;
  title: string;
  priority: number;
  extras?: Record<string, unknown>;
  date: string;
}

export function toExternalMessage(m: MessageRecord): MessageExternal {
  const extras = m.extras && Object.keys(m.extras).length > 0 ? { extras: m.extras } : {};
  return { id: m.id, appid: m.appId, message: m.message, title: m.title, priority: m.priority, ...extras, date: m.date };
}

/** Gotify `PagedMessages`; `next` is an absolute URL, omitted on the last page. */
export interface PagedMessages {
  paging: { next?: string; size: number; since: number; limit: number };
  messages: MessageExternal[];
}
