/** The shape of one row of the configuration table (config/keys.ts). */
export type ConfigType = 'string' | 'int' | 'bool' | 'list' | 'map';

export interface ConfigKeyDef {
  /** Dotted name, e.g. `server.port`. */
  readonly key: string;
  readonly type: ConfigType;
  readonly default: string | number | boolean | readonly string[] | Readonly<Record<string, string>>;
  readonly description: string;
  /** Inclusive bounds for `int` keys. */
  readonly min?: number;
  readonly max?: number;
  /** Extra check on the parsed value; returns an error text or undefined. */
  readonly check?: (value: never) => string | undefined;
  /** Never printed or logged (passwords). */
  readonly secret?: boolean;
  /** Overrides the derived env var / flag names. */
  readonly env?: string;
  /** Overrides the derived Gotify env name (`GOTIFY_` + key), where Gotify spells it otherwise. */
  readonly gotifyEnv?: string;
  readonly flag?: string;
}
