import { useCallback, useEffect, useState } from 'preact/hooks';
import type { Plugin } from '../common/types';
import { onStreamReconnect } from '../message/stream';
import { isTransient, listPlugins } from './plugins';

const POLL_MS = 2_000;

/**
 * The plugin list, re-fetched every 2 s while any plugin is starting or restarting so that the page shows
 * when it settles (running, or failed with its reason) without a manual reload.
 */
export function usePlugins() {
  const [plugins, setPlugins] = useState<Plugin[] | null>(null);
  const [error, setError] = useState<unknown>(null);

  const reload = useCallback(async () => {
    try {
      setPlugins(await listPlugins());
      setError(null);
    } catch (err) {
      setError(err);
    }
  }, []);

  useEffect(() => void reload(), [reload]);
  // After the server was down, plugin states have changed (restarted processes) or failed to load.
  useEffect(() => onStreamReconnect(() => void reload()), [reload]);

  const transient = plugins?.some(isTransient) ?? false;
  useEffect(() => {
    if (!transient) return;
    const timer = setInterval(() => void reload(), POLL_MS);
    return () => clearInterval(timer);
  }, [transient, reload]);

  return { plugins, error, reload };
}
