/**
 * Where a plugin instance's webhooks live: `/plugin/<conf id>/custom/<conf token>/<the
 * plugin's own path>`. Defined once here: the route, the base path plugins are told, CORS's
 * exemption and the log masking of the token all follow it.
 */

/** The relay's route (@koa/router syntax). */
export const WEBHOOK_ROUTE = '/plugin/:id/custom/:token{/*rest}';

/** The base path a plugin is told for an instance (`webhookBasePath` in the protocol), with its trailing slash. */
export const webhookBasePath = (conf: { id: number | string; token: string }): string => `/plugin/${conf.id}/custom/${conf.token}/`;

/**
 * A webhook path up to (not including) the token; repeated slashes too, since cleanPath()
 * routes `//plugin/1/custom/<token>` to the webhook as well. Group 1 is the prefix.
 */
export const WEBHOOK_PREFIX = /^(\/+plugin\/+[^/]*\/+custom\/+)/i;
