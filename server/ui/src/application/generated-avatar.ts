/**
 * The avatar of an application without an uploaded image: its initials on a colour picked from its name,
 * so that applications can be told apart at a glance (and the same name always gets the same colour).
 */

// Every colour carries white text at a contrast of at least 4.5:1 (WCAG AA), in light and dark mode alike.
const PALETTE = [
  '#b5372d', // red
  '#a34e00', // orange
  '#7a6100', // olive
  '#2e7d32', // green
  '#00756a', // teal
  '#0b6e99', // cyan
  '#2f5fc4', // blue
  '#5a4fcf', // indigo
  '#8540b8', // violet
  '#a8327a', // magenta
  '#6b5a4e', // brown
  '#4f5b6e', // slate
] as const;

/** FNV-1a over the UTF-16 code units: cheap, stable across browsers, and spreads similar names apart. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export function avatarColor(name: string): string {
  return PALETTE[hash(name.trim().toLowerCase()) % PALETTE.length]!;
}

/**
 * Up to two letters: the first letters of the first two words ("Backup server" → "BS"), or the first two
 * letters of a single word ("Windows" → "Wi"). Letters are taken whole (emoji and accents included).
 */
export function initials(name: string): string {
  const words = name.trim().split(/[\s_\-.:/]+/u).filter((w) => /[\p{L}\p{N}]/u.test(w));
  if (words.length === 0) return '?';
  const first = Array.from(words[0]!.replace(/^[^\p{L}\p{N}]+/u, ''));
  if (words.length === 1) return (first[0] ?? '?').toUpperCase() + (first[1] ?? '').toLowerCase();
  const second = Array.from(words[1]!.replace(/^[^\p{L}\p{N}]+/u, ''));
  return ((first[0] ?? '') + (second[0] ?? '')).toUpperCase();
}
