/**
 * What a repository scan builds from files' text (profiles, input screens), kept between scans
 * and rebuilt only when a file's text or something else it was built from changes: a poll of an
 * unchanged repository parses nothing. A build that threw is kept too, and throws again, so a
 * broken file is reported on every scan without being parsed on every scan.
 */
interface Entry {
  text: string;
  deps: readonly unknown[];
  value?: unknown;
  error?: unknown;
  failed: boolean;
  /** The sweep that last found it in use. */
  seen: number;
}

export class TextCache {
  private readonly entries = new Map<string, Entry>();
  private generation = 0;
  /** Values built so far (each build parses its files): tests count them. */
  builds = 0;

  /**
   * The value kept in `slot` when it was built from the same `text` and the same `deps` (by
   * identity), else `build()`'s, kept for the next scan.
   */
  get<T>(slot: string, text: string, deps: readonly unknown[], build: () => T): T {
    let e = this.entries.get(slot);
    if (
      e === undefined ||
      e.text !== text ||
      e.deps.length !== deps.length ||
      e.deps.some((d, i) => d !== deps[i])
    ) {
      this.builds++;
      e = { text, deps, failed: false, seen: this.generation };
      try {
        e.value = build();
      } catch (error) {
        e.failed = true;
        e.error = error;
      }
      this.entries.set(slot, e);
    }
    e.seen = this.generation;
    if (e.failed) throw e.error;
    return e.value as T;
  }

  /** Forgets the slots not asked for since the last sweep (files and models that went away). */
  sweep(): void {
    for (const [slot, e] of this.entries) if (e.seen !== this.generation) this.entries.delete(slot);
    this.generation++;
  }
}
