import { pad } from './ops.js';

// Keys of a message: m!<id> → record; a-m!<appId>!<id> → ''; u-m!<userId>!<id> → appId.
// Both indexes end in the fixed-width id, so a reverse scan is newest first and an id bound
// is a plain key bound. The three keys of a message are always written and deleted in one batch.
export const REC = 'm!';
export const BY_APP = 'a-m!';
export const BY_USER = 'u-m!';

export const recKey = (id: number): string => REC + pad(id);
export const appPrefix = (appId: number): string => BY_APP + pad(appId) + '!';
export const userPrefix = (userId: number): string => BY_USER + pad(userId) + '!';
export const appKey = (appId: number, id: number): string => appPrefix(appId) + pad(id);
export const userKey = (userId: number, id: number): string => userPrefix(userId) + pad(id);
/** The message id at the end of an index key. */
export const idOf = (key: string): number => Number(key.slice(key.lastIndexOf('!') + 1));
