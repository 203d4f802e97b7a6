import type { FrameErrorCode, ServerFrame } from '@pigeon/protocol';
import type { StoreOp } from '../store/store.js';
import type { View } from './entry-view.js';
import type { ConnectionContext } from './mailbox-connection.js';
import type { Outcome } from './relay.js';

/** What a connection's request handlers (chat-frames.ts, read-requests.ts) need of it. */
export interface RequestHost {
  readonly ctx: ConnectionContext;
  readonly user: string;
  readonly view: View;
  readonly isOpen: boolean;
  write(frame: ServerFrame): void;
  error(
    code: FrameErrorCode,
    message: string,
    extras: { rid?: string | undefined; retryAfterMs?: number },
  ): void;
  /** Submits a write to the relay, counted as this connection's own (reads wait for it). */
  submit(op: StoreOp, done: (outcome: Outcome) => void): void;
  /** Resolves once this connection's own writes are committed. */
  afterOwnWrites(): Promise<void>;
  /** Answers a request whose store read failed or was refused. */
  failed(err: unknown, rid: string | undefined): void;
}
