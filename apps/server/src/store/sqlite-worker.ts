import { parentPort, workerData } from 'node:worker_threads';
import type { UpdateKind } from '@pigeon/protocol';
import type Database from 'better-sqlite3';
import type { SearchQuery } from './feature-types.js';
import { SqliteFeatureReader } from './sqlite-feature-reader.js';
import type { FromWorker, ToWorker, WireOp, WorkerConfig } from './sqlite-protocol.js';
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
  const retention = new Retention(db);
  // Writes run one at a time in arrival order; a commit waiting for its admission keeps
  // its place (the retention sweep and other writes queue behind it).
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
  const admissions = new Map<number, (reply: Extract<ToWorker, { t: 'admitted' }>) => void>();

  const methods: Record<string, Handler> = {
    createUser: (id: string, hash: string | null, now: number) => writer.createUser(id, hash, now),
    setPassword: (id: string, hash: string) => writer.setPassword(id, hash),
    revokeAllTokens: (id: string) => writer.revokeAllTokens(id),
    revokeToken: (id: string, expiresAt: number) => writer.revokeToken(id, expiresAt),
    checkpoint: () => writer.checkpoint(),
  };

  port.on('message', (m: ToWorker) => {
    switch (m.t) {
      case 'close':
        serially(shutdown);
        return;
      case 'admitted':
        admissions.get(m.id)?.(m);
        admissions.delete(m.id);
        return;
      case 'commit':
        serially(() => commit(m.id, m.ops, m.now));
        return;
      case 'call':
        if (m.method === 'sweepRetention') sweeps = sweeps.then(() => sweep(m.id, m.args[0] as number));
        else serially(() => answer(m.id, () => call(methods, m.method, m.args)));
        return;
    }
  });

  async function commit(id: number, ops: WireOp[], now: number): Promise<void> {
    try {
      const checked = writer.check(ops, now);
      const refusals = new Map<number, number>();
      if (checked.eligible.length > 0) {
        // The rate limit lives on the main thread (or in Redis): ask it about the sends that
        // passed the checks. No transaction is open meanwhile.
        const reply = await new Promise<Extract<ToWorker, { t: 'admitted' }>>((resolve) => {
          admissions.set(id, resolve);
          post({ t: 'admit', id, at: checked.eligible });
        });
        if ('error' in reply) throw new Error(reply.error);
        for (let k = 0; k < checked.eligible.length; k++)
          refusals.set(checked.eligible[k]!, reply.refusals[k] ?? 0);
      }
      post({ t: 'done', id, value: writer.apply(ops, checked, refusals, now) });
    } catch (err) {
      post({ t: 'fail', id, error: errorText(err) });
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
