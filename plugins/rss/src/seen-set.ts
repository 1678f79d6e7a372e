/** The item keys of one feed that were already sent or deliberately skipped, most recent first. */
export class SeenSet {
  private ids: string[];
  private members: Set<string>;

  constructor(ids: Iterable<string> = []) {
    this.ids = [...new Set(ids)];
    this.members = new Set(this.ids);
  }

  /** Most recent first. */
  toArray(): string[] {
    return [...this.ids];
  }

  get size(): number {
    return this.ids.length;
  }

  has(key: string): boolean {
    return this.members.has(key);
  }

  add(key: string): void {
    if (this.members.has(key)) return;
    this.ids.unshift(key);
    this.members.add(key);
  }

  /**
   * Keeps every key still present in the feed, then the most recent others, `limit` keys in
   * all (or more, when the feed itself holds more items than `limit`). Keys still in the
   * feed must never be dropped: forgetting one would send that item again.
   */
  compact(currentKeys: ReadonlySet<string>, limit: number): void {
    const present = this.ids.filter((id) => currentKeys.has(id)).length;
    let othersLeft = Math.max(limit, present) - present;
    this.ids = this.ids.filter((id) => {
      if (currentKeys.has(id)) return true;
      if (othersLeft <= 0) return false;
      othersLeft--;
      return true;
    });
    this.members = new Set(this.ids);
  }
}
