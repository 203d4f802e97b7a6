// Over ~300 lines on purpose: the Store interface's methods, each a thin call into the
// reader or writer thread; the threads' code, the channel and the op/result translation are in
// sqlite-{reader,writer,channel,results}.ts.
import type { ConversationItem, MsgFrame, UpdateKind } from '@pigeon/protocol';
import type { DbSync } from '../config.js';
import type { BlockRelations, SearchQuery, SearchResult, UserSettings } from './feature-types.js';
import { Channel } from './sqlite-channel.js';
import type { Checked, CheckpointResult, OpReply, WireOp, WorkerConfig } from './sqlite-protocol.js';
import { toResult, toWire } from './sqlite-results.js';
import type {
  Admit,
  AdmitOp,
  ConversationsPage,
  Entry,
  MailboxState,
  OpResult,
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
      for (let i = 0; i < ops.length; i++)
        results[i] = toResult(ops[i]!, answers[i]!, (user) => this.tagOf(user));
      return results;
    } finally {
      posted();
      // This batch counts as applied once it is (or failed) and everything before it too.
      void Promise.allSettled([appliedBefore, applying]).then(markApplied);
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
