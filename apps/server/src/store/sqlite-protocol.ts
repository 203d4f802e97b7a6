import type { FileInfo, ReplyQuote } from '@pigeon/protocol';
import type { DbSync } from '../config.js';
import type { FeatureOp, FeatureRefusalCode, FeatureResult } from './feature-types.js';

/*
 * What the main thread and the SQLite worker threads say to each other. Ops and answers
 * are tuples rather than objects: a batch of hundreds crosses the thread boundary by
 * structured clone, and short arrays of strings and numbers are the cheapest to copy.
 */

/**
 * A send `['s', from, id, to, body]` (a reply adds the original's from and id; attachments
 * add the file ids after them, the reply's two as null when it is not one), an ack
 * `['a', user, seq]`, or a chat-feature write `['f', op]` (rare: an object is fine).
 */
export type WireOp =
  | ['s', string, string, string, string]
  | ['s', string, string, string, string, string, string]
  | ['s', string, string, string, string, string | null, string | null, string[]]
  | ['a', string, number]
  | ['f', FeatureOp];

/** A send's wire op. */
export type SendWire = Extract<WireOp, { 0: 's' }>;

/** The original a send answers (`reply`), or null. */
export function sendReplyOf(op: SendWire): { from: string; id: string } | null {
  const from = op[5];
  const id = op[6];
  return from != null && id != null ? { from, id } : null;
}

/** The upload ids a send carries (`files`), or null. */
export function sendFilesOf(op: SendWire): string[] | null {
  return op.length === 8 ? op[7] : null;
}

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
  /** A send with attachments: the quotes (null: not a reply) and the files as stored. */
  | ['s', number, number, number, ReplyQuote | null, ReplyQuote | null, FileInfo[]]
  | ['x', FeatureRefusalCode]
  | ['f', FeatureResult]
  | ['d', number]
  | ['n']
  | ['r', number]
  | ['a', 0 | 1, [string, string][]];

/**
 * The reader's checks of a batch (the spec's order, before the rate limit): `early` holds
 * the answer of every send that is a duplicate or has no recipient (null: not decided);
 * `eligible` the sends that go on to the limiter; `twins` pairs [repeat, first] of the same
 * (from, id) twice in the batch; `tags` the mailbox tags the main thread asked for.
 */
export interface Checked {
  early: (OpReply | null)[];
  eligible: number[];
  twins: [number, number][];
  tags: [string, string][];
}

/** One batch for the writer: its ops, what the checks decided, the limiter's waits (0 = admitted). */
export interface ApplyRequest {
  ops: WireOp[];
  early: (OpReply | null)[];
  twins: [number, number][];
  /** Per op index of an eligible send: 0 = admitted, else the refusal's wait in ms. */
  waits: [number, number][];
  now: number;
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
  | { t: 'apply'; id: number; batch: ApplyRequest }
  | { t: 'close' };

/** Worker → main. */
export type FromWorker =
  | { t: 'ready' }
  | { t: 'done'; id: number; value: unknown }
  | { t: 'fail'; id: number; error: string }
  | { t: 'checkpoint'; result: CheckpointResult }
  | { t: 'closed' };
