import type { ReplyQuote } from '@pigeon/protocol';
import type { DbSync } from '../config.js';
import type { FeatureOp, FeatureRefusalCode, FeatureResult } from './feature-types.js';

/*
 * What the main thread and the SQLite worker threads say to each other. Ops and answers
 * are tuples rather than objects: a batch of hundreds crosses the thread boundary by
 * structured clone, and short arrays of strings and numbers are the cheapest to copy.
 */

/**
 * A send `['s', from, id, to, body]` (a reply adds the original's from and id), an ack
 * `['a', user, seq]`, or a chat-feature write `['f', op]` (rare: an object is fine).
 */
export type WireOp =
  | ['s', string, string, string, string]
  | ['s', string, string, string, string, string, string]
  | ['a', string, number]
  | ['f', FeatureOp];

/**
 * The answer to one op: stored `['s', ts, rseq, sseq]` (rseq 0: the recipient blocks the
 * sender, so only the sender's mailbox has it; a reply adds its quote as each mailbox
 * shows it), duplicate `['d', ts]`, no such user `['n']`, refused `['r', retryAfterMs]`,
 * a reply refused `['x', code]`, ack `['a', changed, [sender, id][]]`, a feature write
 * `['f', result]`.
 */
export type OpReply =
  | ['s', number, number, number]
  | ['s', number, number, number, ReplyQuote, ReplyQuote]
  | ['x', FeatureRefusalCode]
  | ['f', FeatureResult]
  | ['d', number]
  | ['n']
  | ['r', number]
  | ['a', 0 | 1, [string, string][]];

export interface CommitReply {
  results: OpReply[];
  /** Mailbox tags the main thread has not been told yet (it builds the cursors). */
  tags: [string, string][];
}

/** SQLite's counts of a checkpoint: WAL frames in the log, and how many of them were copied back. */
export interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

export interface WorkerConfig {
  role: 'writer' | 'reader';
  path: string;
  sync: DbSync;
  walMaxPages: number;
  checkpointMs: number;
  mailboxMax: number;
  retentionDays: number;
  /** Mailbox entries removed per retention transaction (the writer is busy for that long). */
  sweepSlice: number;
}

/** Main → worker. */
export type ToWorker =
  | { t: 'call'; id: number; method: string; args: unknown[] }
  | { t: 'commit'; id: number; ops: WireOp[]; now: number }
  | { t: 'admitted'; id: number; refusals: number[] }
  | { t: 'admitted'; id: number; error: string }
  | { t: 'close' };

/** Worker → main. */
export type FromWorker =
  | { t: 'ready' }
  | { t: 'done'; id: number; value: unknown }
  | { t: 'fail'; id: number; error: string }
  /** The writer asks the main thread's limiter about these ops of commit `id` (op indices). */
  | { t: 'admit'; id: number; at: number[] }
  | { t: 'checkpoint'; result: CheckpointResult }
  | { t: 'closed' };
