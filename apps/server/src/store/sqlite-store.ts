import { Worker } from 'node:worker_threads';
import type { ConversationItem, MsgFrame, UpdateKind } from '@pigeon/protocol';
import type { DbSync } from '../config.js';
import { encodeCursor } from './cursor.js';
import type { BlockRelations, SearchQuery, SearchResult, UserSettings } from './feature-types.js';
import type {
  Checked,
  CheckpointResult,
  FromWorker,
  OpReply,
  ToWorker,
  WireOp,
  WorkerConfig,
} from './sqlite-protocol.js';
import type {
  Admit,
  AdmitOp,
  ConversationsPage,
  Entry,
  MailboxState,
  MsgEntry,
  OpResult,
  SendOp,
  Store,
  StoreOp,
  UserRecord,
} from './store.js';

export type { CheckpointResult } from './sqlite-protocol.js';

export interface SqliteStoreOptions {
  path: string;
  sync: DbSync;
  mailboxMax: number;
  retentionDays: number;
  /** Time source (tests): message ts, revocation expiry. */
  now?: () => number;
  /** WAL pages after which a commit checkpoints by itself: the bound on the WAL's growth. */
  walMaxPages?: number;
  /** How often the WAL is checkpointed (PASSIVE) off the commit path when something was written. */
  checkpointMs?: number;
  /** Told about every checkpoint the timer ran (tests wait on it instead of sleeping). */
  onCheckpoint?: (result: CheckpointResult) => void;
  /** Mailbox entries retention removes per transaction. */
  sweepSlice?: number;
}

/*
 * Checkpoints. SQLite's default checkpoints inside the COMMIT that pushes the WAL past 1,000
 * pages; under load a group commit dirties hundreds of pages, so nearly every other commit
 * paid for copying pages back to the database, the same hot pages again and again. Instead
 * a timer checkpoints once a second, so each page is copied once per interval; the
 * auto-checkpoint stays on with a much higher bound (~40 MB of WAL) so the WAL cannot grow
 * without limit when the timer falls behind. Both run in the writer thread.
 */
const WAL_MAX_PAGES = 10_000;
const CHECKPOINT_MS = 1000;
/** 500 entries take a few ms to remove: about the longest a commit waits behind retention. */
const SWEEP_SLICE = 500;
/** How long close() waits for a thread to finish its queue before terminating it. */
const CLOSE_GRACE_MS = 10_000;

/**
 * The worker threads' script. Built, it sits beside this file; when this file runs from
 * source (vitest), the worker still runs from the build, which `npm test` makes first.
 */
function workerUrl(): URL {
  const here = new URL(import.meta.url);
  return here.pathname.endsWith('.ts')
    ? new URL('../../dist/store/sqlite-worker.js', here)
    : new URL('./sqlite-worker.js', here);
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

/** One worker thread and the calls waiting for its answers. */
class Channel {
  readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure: Error | null = null;
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;

  constructor(
    config: WorkerConfig,
    private readonly onMessage: (m: FromWorker, channel: Channel) => void,
  ) {
    this.worker = new Worker(workerUrl(), { workerData: config });
    this.ready = new Promise((resolve, reject) => {
      this.worker.once('message', (m: FromWorker) =>
        m.t === 'ready' ? resolve() : reject(new Error(`unexpected ${m.t}`)),
      );
      this.worker.once('error', reject);
    });
    // A store that failed to open rejects `ready`; nothing else may be left unhandled.
    this.ready.catch(() => {});
    this.worker.on('message', (m: FromWorker) => this.receive(m));
    this.worker.on('error', (err) => this.fail(err));
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', (code) => {
        this.fail(new Error(`the SQLite ${config.role} thread exited (${code})`));
        resolve();
      }),
    );
  }

  private receive(m: FromWorker): void {
    if (m.t === 'done' || m.t === 'fail') {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.t === 'done') p.resolve(m.value);
      else p.reject(new Error(m.error));
      return;
    }
    this.onMessage(m, this);
  }

  /** Every call waiting now, and every later one, rejects with `err`. */
  private fail(err: Error): void {
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
  }

  /** Posts at once (the thread must be ready): messages reach the thread in call order. */
  requestNow<T>(message: (id: number) => ToWorker): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage(message(id));
    });
  }

  async call<T>(method: string, ...args: unknown[]): Promise<T> {
    await this.ready;
    return this.requestNow<T>((id) => ({ t: 'call', id, method, args }));
  }

  post(message: ToWorker): void {
    this.worker.postMessage(message);
  }
}

/**
 * The durable store on one SQLite file, kept off the event loop: a writer thread commits
 * (and fsyncs, checkpoints, sweeps) and a reader thread answers reads on its own WAL
 * connection, so the main thread only builds and routes frames.
 */
export class SqliteStore implements Store {
  /** Batches reach the writer thread in call order, whatever their checks' timing. */
  readonly pipelinesCommits = true;
  private readonly now: () => number;
  private readonly writer: Channel;
  private readonly reader: Promise<Channel>;
  /** Mailbox tags, for the cursors of new entries (tags never change). */
  private readonly tags = new Map<string, string>();
  private closing: Promise<void> | null = null;

  constructor(opts: SqliteStoreOptions) {
    this.now = opts.now ?? Date.now;
    const config: WorkerConfig = {
      role: 'writer',
      path: opts.path,
      sync: opts.sync,
      walMaxPages: opts.walMaxPages ?? WAL_MAX_PAGES,
      checkpointMs: opts.checkpointMs ?? CHECKPOINT_MS,
      mailboxMax: opts.mailboxMax,
      retentionDays: opts.retentionDays,
      sweepSlice: opts.sweepSlice ?? SWEEP_SLICE,
    };
    this.writer = new Channel(config, (m) => {
      if (m.t === 'checkpoint') opts.onCheckpoint?.(m.result);
    });
    // The reader opens the file read-only: only after the writer created and migrated it.
    this.reader = this.writer.ready.then(() => {
      const reader = new Channel({ ...config, role: 'reader' }, () => {});
      return reader.ready.then(() => reader);
    });
    this.reader.catch(() => {});
  }

  /** Opens the store: resolves once both threads have opened (and migrated) the database. */
  static async open(opts: SqliteStoreOptions): Promise<SqliteStore> {
    const store = new SqliteStore(opts);
    try {
      await store.opened();
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }

  private async read<T>(method: string, ...args: unknown[]): Promise<T> {
    if (this.closing) throw new Error('store is closed');
    return (await this.reader).call<T>(method, ...args);
  }

  private write<T>(method: string, ...args: unknown[]): Promise<T> {
    if (this.closing) return Promise.reject(new Error('store is closed'));
    return this.writer.call<T>(method, ...args);
  }

  /** A method of the file catalog (sqlite-files.ts) in the reader or the writer thread. */
  callThread<T>(thread: 'reader' | 'writer', method: string, ...args: unknown[]): Promise<T> {
    return thread === 'reader' ? this.read<T>(method, ...args) : this.write<T>(method, ...args);
  }

  /** Resolves once both threads have opened the database. */
  private async opened(): Promise<void> {
    await this.writer.ready;
    await this.reader;
  }

  async createUser(id: string, passwordHash: string | null): Promise<boolean> {
    return this.write<boolean>('createUser', id, passwordHash, this.now());
  }

  async getUser(id: string): Promise<UserRecord | null> {
    return this.read<UserRecord | null>('getUser', id);
  }

  async ensureUser(id: string): Promise<void> {
    await this.createUser(id, null);
  }

  setPassword(id: string, passwordHash: string): Promise<number | null> {
    return this.write<number | null>('setPassword', id, passwordHash);
  }

  revokeAllTokens(id: string): Promise<number | null> {
    return this.write<number | null>('revokeAllTokens', id);
  }

  revokeToken(tokenId: string, expiresAt: number): Promise<void> {
    return this.write<void>('revokeToken', tokenId, expiresAt);
  }

  isTokenRevoked(tokenId: string): Promise<boolean> {
    return this.read<boolean>('isTokenRevoked', tokenId, this.now());
  }

  async mailbox(user: string): Promise<MailboxState | null> {
    const box = await this.read<MailboxState | null>('mailbox', user);
    if (box) this.tags.set(user, box.tag);
    return box;
  }

  readRange(user: string, afterSeq: number, uptoSeq: number, limit: number): Promise<Entry[]> {
    return this.read<Entry[]>('readRange', user, afterSeq, uptoSeq, limit);
  }

  history(
    user: string,
    peer: string,
    beforeSeq: number | null,
    limit: number,
  ): Promise<{ items: MsgFrame[]; more: boolean }> {
    return this.read('history', user, peer, beforeSeq, limit);
  }

  historyAfter(
    user: string,
    peer: string,
    afterSeq: number,
    limit: number,
  ): Promise<{ items: MsgFrame[]; more: boolean }> {
    return this.read('historyAfter', user, peer, afterSeq, limit);
  }

  conversations(
    user: string,
    page: ConversationsPage,
  ): Promise<{ items: ConversationItem[]; more: boolean }> {
    return this.read('conversations', user, page);
  }

  viewHead(user: string, uptoSeq: number, kinds: readonly UpdateKind[]): Promise<number> {
    return this.read('viewHead', user, uptoSeq, kinds);
  }

  settings(user: string): Promise<UserSettings> {
    return this.read('settings', user);
  }

  blockRelations(user: string): Promise<BlockRelations> {
    return this.read('blockRelations', user);
  }

  search(user: string, query: SearchQuery): Promise<SearchResult> {
    return this.read('search', user, query);
  }

  sweepRetention(now: number): Promise<number> {
    if (this.closing) return Promise.resolve(0);
    return this.writer.call<number>('sweepRetention', now);
  }

  /** Checkpoints the WAL now (PASSIVE) in the writer thread; SQLite's counts. */
  checkpoint(): Promise<CheckpointResult> {
    return this.write<CheckpointResult>('checkpoint');
  }

  /** Resolves once the last commit's batch was posted to the writer (batches go in call order). */
  private posted: Promise<void> = Promise.resolve();
  /**
   * Settles once the last commit called so far, and every one before it, was applied by the
   * writer (or failed): a chain, so a batch waiting on it waits for all the batches before.
   */
  private applied: Promise<unknown> = Promise.resolve();

  /**
   * A group commit in three steps: the reader thread runs the duplicate and recipient
   * checks, the main thread's limiter admits what passed them, the writer thread applies
   * and commits. Several commits may be under way: while the writer commits one batch (and
   * waits for its fsync) the next is checked and admitted, and the writer takes the batches
   * that queued meanwhile in one transaction.
   */
  async commit(ops: readonly StoreOp[], admit: Admit): Promise<OpResult[]> {
    if (this.closing) throw new Error('store is closed');
    const previous = this.posted;
    const appliedBefore = this.applied;
    let applying: Promise<unknown> = Promise.resolve();
    let markApplied = (): void => {};
    this.applied = new Promise<void>((resolve) => {
      markApplied = resolve;
    });
    let posted = (): void => {};
    this.posted = new Promise((resolve) => {
      posted = resolve;
    });
    try {
      const wire: WireOp[] = new Array(ops.length);
      const need = new Set<string>();
      let judged = false;
      for (let i = 0; i < ops.length; i++) {
        const op = ops[i]!;
        wire[i] = toWire(op);
        if (op.kind === 'send') {
          if (!this.tags.has(op.to)) need.add(op.to);
          if (!this.tags.has(op.from)) need.add(op.from);
          if (op.replyTo) judged = true;
        } else if (op.kind !== 'ack') judged = true;
      }
      // Feature writes and replies are judged on the state the batches before left (a
      // reaction removed right after it was set, a reply to the message just sent): their
      // checks wait until those batches are applied. Plain sends keep the pipeline.
      if (judged) await appliedBefore;
      const now = this.now();
      const reader = await this.reader;
      const checked = await reader.requestNow<Checked>((id) => ({
        t: 'call',
        id,
        method: 'check',
        args: [wire, [...need], now],
      }));
      for (const [user, tag] of checked.tags) this.tags.set(user, tag);
      const waits: [number, number][] = [];
      if (checked.eligible.length > 0) {
        const refusals = await admit(checked.eligible.map((i) => ops[i] as AdmitOp));
        for (let k = 0; k < checked.eligible.length; k++) {
          const refusal = refusals[k];
          waits.push([checked.eligible[k]!, refusal ? Math.max(1, refusal.retryAfterMs) : 0]);
        }
      }
      await previous;
      if (this.closing) throw new Error('store is closed');
      const reply = this.writer.requestNow<OpReply[]>((id) => ({
        t: 'apply',
        id,
        batch: { ops: wire, early: checked.early, twins: checked.twins, waits, now },
      }));
      posted();
      applying = reply;
      const answers = await reply;
      const results: OpResult[] = new Array(ops.length);
      for (let i = 0; i < ops.length; i++) results[i] = this.toResult(ops[i]!, answers[i]!);
      return results;
    } finally {
      posted();
      // This batch counts as applied once it is (or failed) and everything before it too.
      void Promise.allSettled([appliedBefore, applying]).then(markApplied);
    }
  }

  private toResult(op: StoreOp, r: OpReply): OpResult {
    switch (r[0]) {
      case 's': {
        const send = op as SendOp;
        const [, ts, rseq, sseq, toQuote, fromQuote, files] = r;
        const base = {
          t: 'msg' as const,
          id: send.id,
          from: send.from,
          to: send.to,
          body: send.body,
          ts,
          delivered: false,
          // Nobody's read mark covers a new message; one to oneself is always read.
          read: send.from === send.to,
          ...(files ? { files } : {}),
        };
        const entries: MsgEntry[] = [];
        // rseq 0: the recipient blocks the sender, only the sender's mailbox has it.
        if (rseq > 0) {
          const frame: MsgFrame = { ...base, cursor: encodeCursor(this.tagOf(send.to), rseq) };
          if (toQuote) frame.replyTo = toQuote;
          entries.push({ owner: send.to, seq: rseq, frame });
        }
        if (send.from !== send.to) {
          const frame: MsgFrame = { ...base, cursor: encodeCursor(this.tagOf(send.from), sseq) };
          if (fromQuote) frame.replyTo = fromQuote;
          entries.push({ owner: send.from, seq: sseq, frame });
        }
        return { kind: 'stored', ts, entries };
      }
      case 'x':
        return { kind: 'rejected', code: r[1] };
      case 'f':
        return r[1];
      case 'd':
        return { kind: 'duplicate', ts: r[1] };
      case 'n':
        return { kind: 'no_such_user' };
      case 'r':
        return { kind: 'refused', refusal: { code: 'rate_limited', retryAfterMs: r[1] } };
      case 'a': {
        const user = (op as Extract<StoreOp, { kind: 'ack' }>).user;
        return {
          kind: 'acked',
          changed: r[1] === 1,
          receipts: r[2].map(([sender, id]) => ({ sender, id, to: user })),
        };
      }
    }
  }

  private tagOf(user: string): string {
    const tag = this.tags.get(user);
    if (tag === undefined) throw new Error(`no mailbox tag for ${user}`);
    return tag;
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    // The writer finishes what it was given first (close queues behind it).
    const reader = await this.reader.catch(() => null);
    for (const channel of [this.writer, reader]) {
      if (!channel) continue;
      channel.post({ t: 'close' });
      // A thread stuck in a native call would keep the process alive: stop it after a while.
      const timer = setTimeout(() => void channel.worker.terminate(), CLOSE_GRACE_MS);
      await channel.exited;
      clearTimeout(timer);
    }
  }
}

function toWire(op: StoreOp): WireOp {
  switch (op.kind) {
    case 'send':
      if (op.files && op.files.length > 0) {
        return [
          's',
          op.from,
          op.id,
          op.to,
          op.body,
          op.replyTo?.from ?? null,
          op.replyTo?.id ?? null,
          op.files,
        ];
      }
      return op.replyTo
        ? ['s', op.from, op.id, op.to, op.body, op.replyTo.from, op.replyTo.id]
        : ['s', op.from, op.id, op.to, op.body];
    case 'ack':
      return ['a', op.user, op.seq];
    default:
      return ['f', op];
  }
}
