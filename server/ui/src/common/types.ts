/**
 * Wire shapes of the REST API, taken from the server's own model (type-only imports: nothing
 * of the server is bundled), so the UI and the API cannot drift apart.
 */
export type { ApplicationExternal as Application } from '../../../src/model/application.js';
export type { ClientExternal as Client } from '../../../src/model/client.js';
export type { MessageExternal as Message, PagedMessages } from '../../../src/model/message.js';
export type { PluginConfExternal as Plugin, PluginProcessInfo as PluginProcess, PluginStatus } from '../../../src/model/plugin.js';
export type { UserExternal as User } from '../../../src/model/user.js';

/** Gotify's error body, returned by every failing endpoint. */
export interface ErrorBody {
  error: string;
  errorCode: number;
  errorDescription: string;
}
