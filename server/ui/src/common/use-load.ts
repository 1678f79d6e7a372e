import { useEffect, useState } from 'preact/hooks';
import { onStreamReconnect } from '../message/stream';

/** A page's loading state, as `useLoad` returns it and `ResourcePage` shows it. */
export interface Loading {
  loading: boolean;
  error: unknown;
  reload: () => Promise<void>;
}

/**
 * Runs `load` when the page mounts, when the stream reconnects, and on `reload` (Retry, or after a change). `load`
 * stores what it fetched itself (component state or a shared Store); this tracks only whether it
 * is running and how it failed.
 */
export function useLoad(load: () => Promise<unknown>): Loading {
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const reload = async () => {
    setLoading(true);
    setError(null);
    try {
      await load();
    } catch (err) {
      setError(err);
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => void reload(), []);
  // Back after the server was down: whatever failed to load meanwhile (or changed) is fetched again,
  // so the page does not keep showing "cannot be reached" once it can.
  useEffect(() => onStreamReconnect(() => void reload()), []);
  return { loading, error, reload };
}
