import { Store } from './store';

export interface Notice {
  id: number;
  text: string;
  kind: 'info' | 'error';
}

/** The snackbar queue: short confirmations ("Plugin enabled") and API errors. */
export const notices = new Store<Notice[]>([]);
let nextId = 1;

function push(text: string, kind: Notice['kind']): void {
  const notice = { id: nextId++, text, kind };
  notices.set([...notices.get(), notice].slice(-4));
  // Errors stay longer: they are the ones a user has to read and act on.
  setTimeout(() => dismiss(notice.id), kind === 'error' ? 10_000 : 4_000);
}

export function dismiss(id: number): void {
  notices.set(notices.get().filter((n) => n.id !== id));
}

export const notify = {
  info: (text: string) => push(text, 'info'),
  error: (text: string) => push(text, 'error'),
};
