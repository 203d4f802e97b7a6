/**
 * A bounded map remembering the most recent `capacity` keys (with a value each), used to drop
 * entries the server replays (after a reconnect with an older `since`, or when the saved
 * cursor was unknown).
 */
export class SeenSet {
  private readonly entries = new Map<string, string>();
  constructor(private readonly capacity: number) {}

  has(key: string): boolean {
    return this.entries.has(key);
  }

  get(key: string): string | undefined {
    return this.entries.get(key);
  }

  add(key: string, value = ''): void {
    if (this.entries.has(key)) return;
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) {
      // Maps iterate in insertion order: the first key is the oldest.
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
