/**
 * Runs `run` one period from now, then again one period after each run finished, until the
 * returned stop is called: never two runs at once, and a run slower than the period delays the
 * next instead of piling up. The timer does not keep the process alive; a run in flight at stop
 * finishes. The one such loop of the server (the leader election's attempts, the replica heartbeat).
 */
export function repeatAfter(periodMs: number, run: () => Promise<void>): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => void run().finally(schedule), periodMs);
    timer.unref();
  };
  schedule();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
