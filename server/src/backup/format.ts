/**
 * Flow's backup archive, version 1. One file, written front to back while the server runs:
 *
 *   {"format":"flow-backup","version":1,"flow":"1.0.0","createdAt":"…"}\n     header
 *   {"k":"<LevelDB key>","v":"<value>"}\n                                       every database entry (one snapshot)
 *   {"f":"images/<name>","size":N}\n<N bytes>\n                                  every file of the images folder
 *   {"end":true,"entries":E,"files":F,"sha256":"<hex>"}\n                       trailer
 *
 * `sha256` covers every byte before the trailer, so a truncated or damaged file is refused
 * before anything is restored. Plugin configs, storage, tokens, permissions and id sequences are
 * database entries; the plugins folder itself (plugin executables) is not part of a backup.
 */
export const BACKUP_FORMAT = 'flow-backup';
export const BACKUP_VERSION = 1;

export interface BackupHeader {
  format: typeof BACKUP_FORMAT;
  version: number;
  /** Flow's version that wrote it. */
  flow: string;
  createdAt: string;
}

export interface BackupTrailer {
  end: true;
  entries: number;
  files: number;
  sha256: string;
}

/** File names in the archive: one level below `images/`, no path tricks. */
export const SAFE_FILE = /^images\/[A-Za-z0-9._-]{1,200}$/;
