/**
 * Protocol versions, as "MAJOR.MINOR" strings.
 *
 * Why two numbers: a MINOR release only adds (optional fields, new methods behind a
 * capability flag), so any 1.x host and 1.y plugin can talk; they agree on the
 * lower of the two minors and neither side sends what the other cannot know. A
 * MAJOR change breaks the wire and is refused at the handshake with
 * `ErrorCodes.IncompatibleVersion`, naming both sides' versions.
 */
export const PROTOCOL_VERSION = '1.1';

/**
 * Every version this build of the contract can speak, newest first: one entry per major,
 * since speaking "1.1" means speaking "1.0" too (spec §4.3).
 */
export const SUPPORTED_PROTOCOL_VERSIONS: readonly string[] = [PROTOCOL_VERSION];

export interface ParsedVersion {
  major: number;
  minor: number;
}

/** Parses "1.0"; returns undefined for anything that is not two dot-separated integers. */
export function parseVersion(version: string): ParsedVersion | undefined {
  const match = /^(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})$/.exec(version);
  if (!match) return undefined;
  return { major: Number(match[1]), minor: Number(match[2]) };
}

/**
 * Picks the version both sides speak: the offered version with the same major as one
 * of ours and the highest common minor. With offers ["1.3"] and ours ["1.1"] the
 * answer is "1.1" (a 1.3 host can speak 1.1 by design). Returns undefined when no
 * major matches.
 */
export function negotiateVersion(offered: readonly string[], supported: readonly string[] = SUPPORTED_PROTOCOL_VERSIONS): string | undefined {
  let best: ParsedVersion | undefined;
  for (const theirs of offered.map(parseVersion)) {
    if (!theirs) continue;
    for (const ours of supported.map(parseVersion)) {
      if (!ours || ours.major !== theirs.major) continue;
      const common = { major: ours.major, minor: Math.min(ours.minor, theirs.minor) };
      if (!best || common.major > best.major || (common.major === best.major && common.minor > best.minor)) best = common;
    }
  }
  return best && `${best.major}.${best.minor}`;
}

/**
 * Whether the negotiated `version` includes what `since` introduced (same major, minor at
 * least): a 1.1 addition is used only on a connection that agreed on 1.1 or later (spec §14).
 */
export function versionAtLeast(version: string | undefined, since: string): boolean {
  const have = version === undefined ? undefined : parseVersion(version);
  const need = parseVersion(since);
  return !!have && !!need && have.major === need.major && have.minor >= need.minor;
}
