/**
 * Writes something at most every `delayMs` (`soon`), or right away (`flush`, e.g. when the
 * page is being hidden or unloaded), one write at a time; changes made during a write are
 * written after it. A failed write is reported and retried by the next change.
 */
interface Saver {
  soon(): void;
  flush(): void;
  cancel(): void;
}

export function saver(save: () => Promise<void>, delayMs: number): Saver {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let running = false;
  let dirty = false;
  const flush = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    if (!dirty || running) return;
    running = true;
    void (async () => {
      while (dirty) {
        dirty = false;
        await save().catch((err: unknown) => console.error('pigeon: could not save', err));
      }
      running = false;
    })();
  };
  return {
    soon() {
      dirty = true;
      if (timer === null && !running) timer = setTimeout(flush, delayMs);
    },
    flush,
    cancel() {
      if (timer !== null) clearTimeout(timer);
      timer = null;
      dirty = false;
    },
  };
}
