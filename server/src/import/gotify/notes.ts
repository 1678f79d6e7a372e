/** What an import could not carry, grouped by reason; each group keeps its first items as examples. */
export interface NoteGroup {
  reason: string;
  count: number;
  examples: string[];
}

const EXAMPLES = 10;

export class ImportNotes {
  private groups = new Map<string, NoteGroup>();

  add(reason: string, item: string): void {
    let g = this.groups.get(reason);
    if (!g) this.groups.set(reason, (g = { reason, count: 0, examples: [] }));
    g.count++;
    if (g.examples.length < EXAMPLES) g.examples.push(item);
  }

  list(): NoteGroup[] {
    return [...this.groups.values()];
  }
}
