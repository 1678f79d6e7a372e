import { isPluginCallError } from './connection.js';

/**
 * The liveness ping of one session: every `intervalMs` (0 = off) one `ping`, the next only once
 * it is answered. A ping that times out means the plugin is stuck (its event loop, or it stopped
 * reading): `missed` ends the session. Any other failure (the session is ending, input backed
 * up) just waits for the next tick.
 */
export class Liveness {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly intervalMs: number,
    private readonly ping: () => Promise<unknown>,
    private readonly missed: () => void,
  ) {}

  start(): void {
    if (this.intervalMs <= 0 || this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.ping();
    } catch (err) {
      if (this.stopped) return;
      if (isPluginCallError(err) && err.code === 'FLOW_ERR_PLUGIN_TIMEOUT') {
        this.missed();
        return;
      }
    }
    this.start();
  }
}
