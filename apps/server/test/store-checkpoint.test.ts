import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CheckpointResult, SqliteStore } from '../src/store/sqlite-store.js';
import type { SendOp } from '../src/store/store.js';
import { tempDir } from './helpers.js';

function open(
  dir: string,
  extra: { walMaxPages?: number; checkpointMs?: number; onCheckpoint?: (r: CheckpointResult) => void } = {},
): SqliteStore {
  return new SqliteStore({
    path: path.join(dir, 'p.db'),
    sync: 'full',
    mailboxMax: 10_000,
    retentionDays: 30,
    ...extra,
  });
}

async function fill(store: SqliteStore, batches: number, perBatch: number, tag: string): Promise<void> {
  for (let b = 0; b < batches; b++) {
    const ops: SendOp[] = [];
    for (let i = 0; i < perBatch; i++) {
      ops.push({
        kind: 'send',
        from: `a${i % 10}`,
        to: `b${i % 10}`,
        id: `${tag}-${b}-${i}`,
        body: 'x'.repeat(500),
      });
    }
    const results = await store.commit(ops, async (sends) => sends.map(() => null));
    expect(results.every((r) => r.kind === 'stored')).toBe(true);
  }
}

async function users(store: SqliteStore): Promise<void> {
  for (let i = 0; i < 10; i++) {
    await store.createUser(`a${i}`, null);
    await store.createUser(`b${i}`, null);
  }
}

describe('WAL checkpoints', () => {
  it('the WAL stays near its page bound when the timer never runs', async () => {
    const dir = tempDir();
    const store = open(dir, { walMaxPages: 50, checkpointMs: 3_600_000 });
    try {
      await users(store);
      // ~4 MB of bodies (each message is stored once): unbounded, the WAL would hold all of it.
      await fill(store, 80, 100, 'w');
      const wal = fs.statSync(path.join(dir, 'p.db-wal')).size;
      // 50 pages of 4 KiB plus one commit's pages past the bound.
      expect(wal).toBeLessThan(1_500_000);
    } finally {
      await store.close();
    }
  });

  it('the timer checkpoints committed pages; everything stays readable after reopening', async () => {
    const dir = tempDir();
    // The WAL bound is far away, so only the timer can checkpoint.
    let afterFill: ((r: CheckpointResult) => void) | null = null;
    const store = open(dir, {
      checkpointMs: 20,
      walMaxPages: 1_000_000,
      onCheckpoint: (r) => afterFill?.(r),
    });
    await users(store);
    await fill(store, 5, 100, 'c');
    // The first timer run after the last commit: it copies every frame of the WAL back.
    const run = await new Promise<CheckpointResult>((resolve) => {
      afterFill = resolve;
    });
    expect(run.log).toBeGreaterThan(0);
    expect(run.checkpointed).toBe(run.log);
    // Nothing was left for a checkpoint now.
    expect(await store.checkpoint()).toEqual({ busy: 0, log: run.log, checkpointed: run.log });
    await store.close();
    const again = open(dir);
    try {
      const box = await again.mailbox('b3');
      expect(box?.headSeq).toBe(50);
      const entries = await again.readRange('b3', 0, 50, 100);
      expect(entries.map((e) => (e.frame.t === 'msg' ? e.frame.id : e.frame.kind))).toEqual(
        Array.from({ length: 5 }, (_, b) =>
          Array.from({ length: 10 }, (_, k) => `c-${b}-${k * 10 + 3}`),
        ).flat(),
      );
    } finally {
      await again.close();
    }
  });
});
