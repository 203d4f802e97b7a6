import { parentPort, workerData } from 'node:worker_threads';
import type { UpdateKind } from '@pigeon/protocol';
import type Database from 'better-sqlite3';
import type { SearchQuery } from './feature-types.js';
import { SqliteFeatureReader } from './sqlite-feature-reader.js';
import { fileReaderMethods, fileWriterMethods } from './sqlite-files.js';
import type { ApplyRequest, FromWorker, ToWorker, WireOp, WorkerConfig } from './sqlite-protocol.js';
import { SqliteReader } from './sqlite-reader.js';
import { Retention } from './sqlite-retention.js';
import { openDatabase } from './sqlite-schema.js';
import { SqliteWriter } from './sqlite-writer.js';

/*
 * The entry point of the SQLite worker threads (loaded from the build: dist/store/). The
 * writer owns the connection that writes (commits with their fsync, accounts, retention,
 * WAL checkpoints); the reader owns a read-only connection for everything that only
 * reads. Each handles its messages one at a time, in arrival order.
 */

const config = workerData as WorkerConfig;
if (!parentPort) throw new Error('sqlite-worker.js runs as a worker thread');
const port = parentPort;
const post = (m: FromWorker): void => port.postMessage(m);
const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

const db: Database.Database = openDatabase({
  path: config.path,
  sync: config.sync,
  walMaxPages: config.walMaxPages,
  readonly: config.role === 'reader',
});

/** Methods the main thread may call by name, per role. */
type Handler = (...args: never[]) => unknown;

let closing = false;

if (config.role === 'reader') {
  const reader = new SqliteReader(db);
  const features = new SqliteFeatureReader(db);
  const methods: Record<string, Handler> = {
    check: (ops: WireOp[], need: string[], now: number) => reader.check(ops, need, now),
    viewHead: (user: string, upto: number, kinds: UpdateKind[]) => features.viewHead(user, upto, kinds),
    settings: (user: string) => features.settings(user),
    blockRelations: (user: string) => features.blockRelations(user),
    search: (user: string, query: SearchQuery) => features.search(user, query),
    getUser: (id: string) => reader.getUser(id),
    isTokenRevoked: (id: string, now: number) => reader.isTokenRevoked(id, now),
    mailbox: (user: string) => reader.mailbox(user),
    readRange: (user: string, after: number, upto: number, limit: number) =>
      reader.readRange(user, after, upto, limit),
    history: (user: string, peer: string, before: number | null, limit: number) =>
      reader.history(user, peer, before, limit),
    historyAfter: (user: string, peer: string, after: number, limit: number) =>
      reader.historyAfter(user, peer, after, limit),
    conversations: (user: string, page: { limit: number; beforeSeq: number | null }) =>
      reader.conversations(user, page),
    ...fileReaderMethods(db),
  };
  port.on('message', (m: ToWorker) => {
    if (m.t === 'close') return shutdown();
    if (m.t !== 'call') return;
    answer(m.id, () => call(methods, m.method, m.args));
  });
} else {
  startWriter();
}
post({ t: 'ready' });

function call(methods: Record<string, Handler>, method: string, args: unknown[]): unknown {
  const fn = methods[method];
  if (!fn) throw new Error(`no such store method: ${method}`);
  return fn(...(args as never[]));
}

function answer(id: number, fn: () => unknown): void {
  try {
    post({ t: 'done', id, value: fn() });
  } catch (err) {
    post({ t: 'fail', id, error: errorText(err) });
  }
}

function startWriter(): void {
  const writer = new SqliteWriter(db);
  const retention = new Retention(db, config.sync);
  // Writes run one at a time in arrival order (the retention sweep's slices queue with them).
  let chain: Promise<void> = Promise.resolve();
  const serially = (fn: () => Promise<void> | void): void => {
    chain = chain.then(fn, fn);
  };
  /** Runs `fn` in its turn among the writes; resolves with its result. */
  const queued = <T>(fn: () => T): Promise<T> =>
    new Promise<T>((resolve, reject) =>
      serially(() => {
        try {
          resolve(fn());
        } catch (err) {
          reject(err);
        }
      }),
    );
  // Sweeps run one after another (a second sweep starts after the first is done); their
  // slices queue with the other writes.
  let sweeps: Promise<void> = Promise.resolve();
  // Batches that arrived since the last commit started: the next commit takes them all.
  let batches: { id: number; batch: ApplyRequest }[] = [];

  const methods: Record<string, Handler> = {
    createUser: (id: string, hash: string | null, now: number) => writer.createUser(id, hash, now),
    setPassword: (id: string, hash: string) => writer.setPassword(id, hash),
    revokeAllTokens: (id: string) => writer.revokeAllTokens(id),
    revokeToken: (id: string, expiresAt: number) => writer.revokeToken(id, expiresAt),
    checkpoint: () => writer.checkpoint(),
    ...fileWriterMethods(db),
  };

  port.on('message', (m: ToWorker) => {
    switch (m.t) {
      case 'close':
        // After the batches that arrived before it (their commit is queued at setImmediate).
        setImmediate(() => serially(shutdown));
        return;
      case 'apply':
        batches.push({ id: m.id, batch: m.batch });
        // The first batch since the last commit queues one, after every message already
        // waiting has been read (setImmediate): the batches among them join it.
        if (batches.length === 1) setImmediate(() => serially(commit));
        return;
      case 'call':
        if (m.method === 'sweepRetention') sweeps = sweeps.then(() => sweep(m.id, m.args[0] as number));
        else serially(() => answer(m.id, () => call(methods, m.method, m.args)));
        return;
    }
  });

  /**
   * Commits every batch that arrived meanwhile in one transaction (one fsync for all);
   * each gets its own answer, or all fail together.
   */
  function commit(): void {
    const taken = batches;
    batches = [];
    if (taken.length === 0) return;
    try {
      const results = writer.apply(taken.map((b) => b.batch));
      for (let k = 0; k < taken.length; k++) post({ t: 'done', id: taken[k]!.id, value: results[k] });
    } catch (err) {
      for (const b of taken) post({ t: 'fail', id: b.id, error: errorText(err) });
    }
  }

  /** One slice per turn of this thread, so commits that arrive meanwhile go in between. */
  async function sweep(id: number, now: number): Promise<void> {
    try {
      await queued(() => {
        if (!closing) writer.sweepRevoked(now);
      });
      const cutoff = now - config.retentionDays * 86_400_000;
      let removed = 0;
      const overfull = closing ? [] : retention.overfull(config.mailboxMax);
      for (const [user, head] of overfull) {
        // Only messages count (PROTOCOL.md "Updates"): keep from the mailboxMax-th newest one.
        const keepAbove = (await queued(() => retention.keepFrom(user, config.mailboxMax, head))) - 1;
        for (;;) {
          const n = await queued(() =>
            closing ? 0 : retention.sweepSlice(user, keepAbove, cutoff, config.sweepSlice),
          );
          if (n === 0 || closing) break;
          removed += n;
          writer.written = true;
          // Let the batches that arrived meanwhile queue before the next slice (they are
          // queued from setImmediate too, and this one was registered first).
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
      post({ t: 'done', id, value: removed });
    } catch (err) {
      post({ t: 'fail', id, error: errorText(err) });
    }
  }

  const timer = setInterval(() => {
    if (!writer.written || closing) return;
    serially(() => post({ t: 'checkpoint', result: writer.checkpoint() }));
  }, config.checkpointMs);
  timer.unref();
}

function shutdown(): void {
  if (closing) return;
  closing = true;
  db.close();
  post({ t: 'closed' });
  port.close();
}
