/**
 * The tables and columns of Gotify's database as its GORM models define them (gotify/server
 * model/*.go), 2.x and 3.x together. `required` columns exist in every Gotify 2 release;
 * `optional` ones were added later (sort_key in 2.9, created_at/oidc_id/elevation/expiry in 3.0)
 * and are filled in as Gotify's own migrations would when missing.
 */
export interface TableShape {
  required: readonly string[];
  optional: readonly string[];
}

export const GOTIFY_TABLES = {
  users: { required: ['id', 'name', 'pass', 'admin'], optional: ['created_at', 'oidc_id'] },
  applications: {
    required: ['id', 'token', 'user_id', 'name'],
    optional: ['description', 'internal', 'image', 'default_priority', 'last_used', 'sort_key', 'created_at'],
  },
  clients: {
    required: ['id', 'token', 'user_id', 'name'],
    optional: ['last_used', 'created_at', 'elevated_until', 'expires_after_inactivity_seconds', 'expires_at'],
  },
  messages: { required: ['id', 'application_id', 'message', 'date'], optional: ['title', 'priority', 'extras'] },
  plugin_confs: {
    required: ['id', 'user_id', 'module_path', 'token'],
    optional: ['application_id', 'enabled', 'config', 'storage', 'created_at'],
  },
} as const satisfies Record<string, TableShape>;

export type GotifyTable = keyof typeof GOTIFY_TABLES;
export const TABLE_NAMES = Object.keys(GOTIFY_TABLES) as GotifyTable[];

/** What a source database has, table name → column names (lower-case). */
export type SourceSchema = Map<string, string[]>;

/** A SourceSchema from information_schema rows (table `t`, column `c`), in the rows' order. */
export function schemaFromColumns(rows: { t: string; c: string }[]): SourceSchema {
  const out: SourceSchema = new Map();
  for (const { t, c } of rows) {
    const key = t.toLowerCase();
    if (!out.has(key)) out.set(key, []);
    out.get(key)!.push(c.toLowerCase());
  }
  return out;
}

export class SchemaError extends Error {}

/**
 * Checks that `schema` is a Gotify database this importer understands, and returns the
 * columns to read per table. Errors name what is wrong: the missing tables ("not a Gotify
 * database"), the missing required columns, or the unknown columns of a newer Gotify.
 */
export function checkSchema(schema: SourceSchema): Record<GotifyTable, string[]> {
  const missingTables = TABLE_NAMES.filter((t) => !schema.has(t));
  if (missingTables.length === TABLE_NAMES.length) {
    throw new SchemaError(`not a Gotify database: none of its tables (${TABLE_NAMES.join(', ')}) exist`);
  }
  if (missingTables.length > 0) {
    throw new SchemaError(`not a Gotify database: missing table${missingTables.length > 1 ? 's' : ''} ${missingTables.join(', ')}`);
  }
  const missingColumns: string[] = [];
  const unknownColumns: string[] = [];
  const read = {} as Record<GotifyTable, string[]>;
  for (const table of TABLE_NAMES) {
    const shape: TableShape = GOTIFY_TABLES[table];
    const have = schema.get(table)!;
    for (const c of shape.required) if (!have.includes(c)) missingColumns.push(`${table}.${c}`);
    for (const c of have) if (!shape.required.includes(c) && !shape.optional.includes(c)) unknownColumns.push(`${table}.${c}`);
    read[table] = [...shape.required, ...shape.optional.filter((c) => have.includes(c))];
  }
  if (missingColumns.length > 0) {
    throw new SchemaError(`not a Gotify database this importer knows: missing column${missingColumns.length > 1 ? 's' : ''} ${missingColumns.join(', ')}`);
  }
  if (unknownColumns.length > 0) {
    throw new SchemaError(
      `a newer Gotify schema than this importer knows (2.x, 3.0): unknown column${unknownColumns.length > 1 ? 's' : ''} ${unknownColumns.sort().join(', ')}; ` +
        'nothing was imported, as their data would be lost',
    );
  }
  return read;
}
