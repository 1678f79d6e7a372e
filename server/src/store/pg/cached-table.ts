import type { TokenRecordWrites } from '../cached/owned-store.js';
import type { WriteFence } from '../message.js';
import type { OwnedRecord } from '../owned-cache.js';
import type { RecordCache } from '../record-cache.js';
import type { PgDb } from './pg-db.js';
import { placeholders, type PgTableShape } from './rows.js';

/**
 * The table of an entity whose records are also held in memory (users, clients, applications,
 * plugin confs): reading and inserting rows, and making memory follow the database when
 * another replica changed one row (`refresh`, on its notification) or perhaps any (`reload`,
 * after notifications may have been missed).
 */
export class PgCachedTable<T extends { id: number }> {
  constructor(
    protected readonly db: PgDb,
    protected readonly shape: PgTableShape<T>,
    private readonly memory: RecordCache<T>,
  ) {}

  async select(where = '', values: unknown[] = []): Promise<T[]> {
    const { rows } = await this.db.query(`SELECT ${this.shape.columns} FROM ${this.shape.name} ${where}`, values);
    return rows.map((r) => this.shape.recordOf(r));
  }

  /** Fills memory at open. */
  async load(): Promise<void> {
    for (const r of await this.select()) this.memory.add(r);
  }

  /** Another replica changed record `id`: memory takes what the database holds now. */
  refresh(id: number): Promise<{ before?: T; after?: T }> {
    return this.db.exclusive(async () => {
      const [after] = await this.select('WHERE id = $1', [id]);
      return { before: this.memory.adopt(id, after), after };
    });
  }

  /** Reloads every record; returns the ones that are gone. */
  reload(): Promise<T[]> {
    return this.db.exclusive(async () => this.memory.adoptAll(await this.select()));
  }

  /**
   * Inserts the record (an `id` in `input` is ignored) under the next id of the sequence; returns
   * it with that id. With `fence`, in one transaction that commits only while the fence holds.
   */
  async insert(input: Omit<T, 'id'>, fence?: WriteFence): Promise<T> {
    const values = this.shape.values({ ...input, id: 0 } as T).slice(1);
    const text = `INSERT INTO ${this.shape.name} (${this.shape.columns}) VALUES (nextval('${this.shape.sequence}'), ${placeholders(values.length)}) RETURNING id`;
    const id = fence
      ? await this.db.tx(async (q) => {
          const { rows } = await q.query<{ id: number }>(text, values);
          await fence.check(q);
          return rows[0]!.id;
        })
      : (await this.db.query<{ id: number }>(text, values)).rows[0]!.id;
    return { ...input, id } as T;
  }
}

/** The table of clients or applications: records with a token that can be rotated. */
export class PgTokenTable<T extends OwnedRecord> extends PgCachedTable<T> implements TokenRecordWrites<T> {
  async writeToken(cur: T, next: T): Promise<void> {
    await this.db.query(`UPDATE ${this.shape.name} SET token = $2 WHERE id = $1`, [cur.id, next.token]);
  }
}

// `any[]`: TypeScript accepts a class as a mixin base only with a constructor of `...args: any[]`.
type AbstractClass = abstract new (...args: any[]) => object;

/**
 * The PostgreSQL store of a cached entity: its cached base (`Base`, e.g. `CachedClientStore`) with
 * the reads that follow the table (`table`, set by the subclass's constructor): `load` at open,
 * `refresh`/`reload` when other replicas changed it (cluster/notify-feed.ts).
 */
export function followingTable<T extends { id: number }, B extends AbstractClass>(Base: B) {
  abstract class FollowingTable extends Base {
    abstract readonly table: PgCachedTable<T>;

    load(): Promise<void> {
      return this.table.load();
    }

    /** Another replica changed record `id`: memory takes what the database holds now. */
    refresh(id: number): Promise<{ before?: T; after?: T }> {
      return this.table.refresh(id);
    }

    /** Reloads every record (notifications may have been missed); returns the ones that are gone. */
    reload(): Promise<T[]> {
      return this.table.reload();
    }
  }
  return FollowingTable;
}
