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
}

/** Wire shape (Gotify `Application` after `withResolvedImage`). */
export interface ApplicationExternal {
  id: number;
  token: string;
  name: string;
  description: string;
  internal: boolean;
  image: string;
  defaultPriority: number;
  lastUsed: string | null;
  sortKey: string;
}

export const DEFAULT_APP_IMAGE = 'static/defaultapp.png';

export const toExternalApplication = (a: ApplicationRecord): ApplicationExternal => ({
  id: a.id,
  token: a.token,
  name: a.name,
  description: a.description,
  internal: a.internal,
  image: a.image === '' ? DEFAULT_APP_IMAGE : 'image/' + a.image,
  defaultPriority: a.defaultPriority,
  lastUsed: a.lastUsed,
  sortKey: a.sortKey,
});
