/**
 * Defaults for the limits a host announces in `initialize` (HostLimits). A plugin that
 * receives other values uses those.
 */

/** Largest frame body either side may send: a 1 MiB webhook body is ~1.4 MiB in base64, plus room. */
export const DEFAULT_MAX_FRAME_BYTES = 8 * 1024 * 1024;

/** Per-instance storage: the blob plus every key and value, in UTF-8 bytes. */
export const DEFAULT_STORAGE_QUOTA_BYTES = 4 * 1024 * 1024;

/** Largest webhook request body the host forwards (Flow's `limits.bodybytes` default). */
export const DEFAULT_WEBHOOK_BODY_BYTES = 1024 * 1024;
