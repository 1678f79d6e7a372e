/** A stored application (a sender holding an `A…` token). */
export interface ApplicationRecord {
  id: number;
  userId: number;
  token: string;
  name: string;
  description: string;
  /** Owned by a plugin instance: cannot be deleted through the API. */
  internal: boolean;
  /** File name under <datadir>/images, or '' for the default image. */
  image: string;
  defaultPriority: number;
  lastUsed: string | null;
  /** Fractional-index key ordering the user's applications (Gotify 2.9). */
  sortKey: string;
  /**
   * Flow's retention policy. Per field: a number is the application's own limit, null means
   * "keep" (no limit), absent means "the server default" (config `retention.*`).
   */
  retention?: RetentionSetting;
}

/** Stored retention of an application; see `ApplicationRecord.retention`. */
export interface RetentionSetting {
  maxCount?: number | null;
  maxAgeSeconds?: number | null;
}

/** The limits in force (null = no limit): the wire shape of `retention`. */
export interface Retention {
  maxCount: number | null;
  maxAgeSeconds: number | null;
}

/** What applies to an application: its own values, else the server default (0 = none). */
export function effectiveRetention(a: ApplicationRecord, defaults: { maxCount: number; maxAgeSeconds: number }): Retention {
  const pick = (own: number | null | undefined, dflt: number) => (own === undefined ? (dflt > 0 ? dflt : null) : own);
  return { maxCount: pick(a.retention?.maxCount, defaults.maxCount), maxAgeSeconds: pick(a.retention?.maxAgeSeconds, defaults.maxAgeSeconds) };
}

/**
 * Wire shape (Gotify `Application` after `withResolvedImage`): the stored record without its
 * owner, `image` as the URL path the UI loads, and `retention` as the limits in force (Flow's
 * addition, ignored by Gotify clients; null = keep).
 */
export type ApplicationExternal = Omit<ApplicationRecord, 'userId' | 'retention'> & { retention: Retention };

export const DEFAULT_APP_IMAGE = 'static/defaultapp.png';

/** `retention` is the effective policy (see `effectiveRetention`). */
export const toExternalApplication = (a: ApplicationRecord, retention: Retention): ApplicationExternal => ({
  id: a.id,
  token: a.token,
  name: a.name,
  description: a.description,
  internal: a.internal,
  image: a.image === '' ? DEFAULT_APP_IMAGE : 'image/' + a.image,
  defaultPriority: a.defaultPriority,
  lastUsed: a.lastUsed,
  sortKey: a.sortKey,
  retention,
});
