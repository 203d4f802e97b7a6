import type { MessageRef, MsgFrame, UpdateFrame } from '@pigeon/protocol';
import { expect } from 'vitest';
import { encodeCursor } from '../../src/store/cursor.js';
import type { FeatureOp, FeatureResult } from '../../src/store/feature-types.js';
import type { Admit, Entry, OpResult, Store } from '../../src/store/store.js';
import { admitAll, commitAll } from './harness.js';

/** Commits one feature write and returns its result. */
export async function write(store: Store, op: FeatureOp, admit: Admit = admitAll()): Promise<OpResult> {
  const [result] = await commitAll(store, [op], admit);
  return result!;
}

/** Commits one feature write and expects it to be applied; returns the update entries it appended. */
export async function applied(store: Store, op: FeatureOp): Promise<Entry<UpdateFrame>[]> {
  const result = await write(store, op);
  if (result.kind !== 'applied') throw new Error(`expected applied, got ${JSON.stringify(result)}`);
  return result.entries;
}

export function rejected(code: Extract<FeatureResult, { kind: 'rejected' }>['code']): OpResult {
  return { kind: 'rejected', code };
}

export const unchanged: OpResult = { kind: 'unchanged' };

/** Every entry of a mailbox, messages and updates. */
export async function everything(store: Store, user: string): Promise<Entry[]> {
  const box = (await store.mailbox(user))!;
  return store.readRange(user, 0, box.headSeq, 100_000);
}

/** The update entries of a mailbox, oldest first. */
export async function updatesOf(store: Store, user: string): Promise<UpdateFrame[]> {
  return (await everything(store, user)).flatMap((e) => (e.frame.t === 'update' ? [e.frame] : []));
}

/** The message entries of a mailbox, oldest first (hidden ones are not entries one is sent). */
export async function msgsOf(store: Store, user: string): Promise<MsgFrame[]> {
  return (await everything(store, user)).flatMap((e) => (e.frame.t === 'msg' ? [e.frame] : []));
}

/** The current state of one message as `user`'s mailbox shows it (through history with its peer). */
export async function stateOf(store: Store, user: string, peer: string, ref: MessageRef): Promise<MsgFrame> {
  const { items } = await store.history(user, peer, null, 100);
  const msg = items.find((m) => m.from === ref.from && m.id === ref.id);
  if (!msg) throw new Error(`no message ${ref.from}/${ref.id} in ${user}'s history with ${peer}`);
  return msg;
}

/** The cursor of `seq` in `user`'s mailbox. */
export async function cursorOf(store: Store, user: string, seq: number): Promise<string> {
  const box = (await store.mailbox(user))!;
  return encodeCursor(box.tag, seq);
}

/** The seq of the entry of message `ref` in `user`'s mailbox. */
export async function seqOf(store: Store, user: string, ref: MessageRef): Promise<number> {
  const entry = (await everything(store, user)).find(
    (e) => e.frame.t === 'msg' && e.frame.from === ref.from && e.frame.id === ref.id,
  );
  expect(entry, `${ref.from}/${ref.id} in ${user}'s mailbox`).toBeDefined();
  return entry!.seq;
}
