/**
 * One plugin instance of one user (Gotify `PluginConf`). `storage` (an opaque blob) and `kv`
 * entries live under their own LevelDB keys so reading or writing them never rewrites the record.
 */
export interface PluginConfRecord {
  id: number;
  userId: number;
  /** Identifies the plugin module; unique per user. */
  modulePath: string;
  /** `P` + 22 characters of [A-Za-z0-9_-]; the secret in webhook paths, never an API credential. */
  token: string;
  /** The plugin's internal application, 0 when it has none. */
  applicationId: number;
  enabled: boolean;
  /** The user-authored YAML text, stored byte for byte. */
  config: string;
  createdAt: string;
}
