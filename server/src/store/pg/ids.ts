import type { PgDb } from './pg-db.js';

/**
 * Message ids in call order. PostgreSQL hands out sequence values to concurrent inserts in any
 * order, but the fan-out (`services/fan-out.ts`) delivers each user's messages in the order the
 * inserts were started and promises that this is id order. So ids are drawn here, one request
 * at a time: every id asked for while a draw is in flight is drawn by the next one
 * (`generate_series`, sorted), and handed out in the order asked. Under load that is one round
 * trip for many messages; other Flow servers on the same database draw from the same sequence.
 */
export class OrderedIds {
  private waiting: { resolve: (id: number) => void; reject: (err: unknown) => void }[] = [];
  private drawing = false;

  constructor(
    private readonly db: PgDb,
    private readonly sequence: string,
  ) {}

  /** The next id; ids resolve in the order `next` was called. */
  next(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.draw();
    });
  }

  private draw(): void {
    if (this.drawing || this.waiting.length === 0) return;
    const batch = this.waiting.splice(0);
    this.drawing = true;
    this.db.query<{ id: number }>(`SELECT nextval('${this.sequence}') AS id FROM generate_series(1, $1)`, [batch.length]).then(
      ({ rows }) => {
        const ids = rows.map((r) => r.id).sort((a, b) => a - b);
        batch.forEach((w, i) => w.resolve(ids[i]!));
      },
      (err: unknown) => {
        for (const w of batch) w.reject(err);
      },
    ).finally(() => {
      this.drawing = false;
      this.draw();
    });
  }
}

/** The last id handed out from `sequence` by any server (0 before the first): "everything up to now". */
export async function lastSequenceValue(db: Pick<PgDb, 'query'>, sequence: string): Promise<number> {
  const { rows } = await db.query<{ v: number; called: boolean }>(`SELECT last_value AS v, is_called AS called FROM ${sequence}`);
  return rows[0]!.called ? rows[0]!.v : 0;
}
