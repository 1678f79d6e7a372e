/**
 * Waits for `work` at most `ms` (0 or less: not at all): true when it fulfilled in time, false
 * when the deadline came first; a rejection within the deadline is rethrown. The timer is
 * cleared either way, so nothing keeps the process alive afterwards. The one deadline helper
 * of the server (plugin exits, startFlow's wait for plugins).
 */
export async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  if (ms <= 0) return false;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<false>((resolve) => (timer = setTimeout(resolve, ms, false)));
  try {
    return await Promise.race([work.then(() => true as const), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
