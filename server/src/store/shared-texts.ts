/**
 * Config texts held in memory, shared: most users keep their plugin's default config, so every
 * conf with the same text points at one string (a large default is held once, not per user).
 * Counted references, so a text nobody uses any more is released.
 */
export class SharedTexts {
  private texts = new Map<string, { text: string; refs: number }>();

  /** The shared copy of `text` (counted once more). */
  share(text: string): string {
    const t = this.texts.get(text);
    if (t) {
      t.refs++;
      return t.text;
    }
    this.texts.set(text, { text, refs: 1 });
    return text;
  }

  release(text: string): void {
    const t = this.texts.get(text);
    if (t && --t.refs <= 0) this.texts.delete(text);
  }
}
