import type { Feature } from '@pigeon/protocol';
import { expect } from 'vitest';
import { Client, type Frame, fence, mid, type Session } from './helpers.js';

/** Every chat feature of issue 10 (what the server offers besides `paging` and `files`). */
export const CHAT: Feature[] = ['read', 'edit', 'reply', 'react', 'block', 'search'];

/** Opens /ws with a hello that asks for `features`, waits for welcome … synced. */
export async function chatSession(
  wsUrl: string,
  token: string,
  features: Feature[] = CHAT,
  since?: string,
): Promise<Session> {
  const c = await Client.open(`${wsUrl}/ws`);
  const hello: Record<string, unknown> = { t: 'hello', v: 1, token, features };
  if (since !== undefined) hello.since = since;
  c.send(hello);
  const welcome = await c.next((f) => f.t === 'welcome', 'welcome');
  const synced = await c.next((f) => f.t === 'synced', 'synced', 15_000);
  const s = c as Session;
  s.welcome = welcome;
  s.synced = synced;
  s.backlog = c.frames.slice(c.frames.indexOf(welcome) + 1, c.frames.indexOf(synced));
  return s;
}

/**
 * Sends a write with a fresh rid and waits for its answer: `ok`, or an `error` carrying
 * that rid. Returns the answer frame.
 */
async function writeAndWait(c: Client, frame: Record<string, unknown>): Promise<Frame> {
  const rid = mid('w');
  c.send({ ...frame, rid });
  return c.waitFor((f) => (f.t === 'ok' || f.t === 'error') && f.rid === rid, `answer to ${frame.t} ${rid}`);
}

/** Expects the write to be answered `ok`. */
export async function ok(c: Client, frame: Record<string, unknown>): Promise<void> {
  const answer = await writeAndWait(c, frame);
  expect(answer, `${String(frame.t)} answered`).toMatchObject({ t: 'ok' });
}

/** Expects the write to be refused with `code`. */
export async function refused(c: Client, frame: Record<string, unknown>, code: string): Promise<Frame> {
  const answer = await writeAndWait(c, frame);
  expect(answer, `${String(frame.t)} refused`).toMatchObject({ t: 'error', code });
  return answer;
}

/** Sends a request with a fresh rid and waits for the answer of type `t` (or an error) with it. */
export async function request(c: Client, frame: Record<string, unknown>): Promise<Frame> {
  const rid = mid('q');
  c.send({ ...frame, rid });
  return c.waitFor(
    (f) => (f.t === frame.t || f.t === 'error') && f.rid === rid,
    `answer to ${frame.t} ${rid}`,
  );
}

/** Sends a message and waits for its `sent` and its echo; returns the echo. */
export async function sendMsg(
  c: Client,
  to: string,
  body: string,
  extra: Record<string, unknown> = {},
): Promise<Frame> {
  const id = mid();
  c.send({ t: 'send', id, to, body, ...extra });
  const sent = await c.waitFor((f) => (f.t === 'sent' || f.t === 'error') && f.id === id, `sent ${id}`);
  expect(sent.t, `send ${id}: ${JSON.stringify(sent)}`).toBe('sent');
  return c.waitFor((f) => f.t === 'msg' && f.id === id, `echo ${id}`);
}

/** The update frames `c` received so far (of `kind`, if given). */
export function updates(c: Client, kind?: string): Frame[] {
  return c.frames.filter((f) => f.t === 'update' && (kind === undefined || f.kind === kind));
}

/** After a ping fence: what `c` received of type `t` since frame index `from`. */
export async function settle(c: Client, from = 0): Promise<Frame[]> {
  await fence(c);
  return c.frames.slice(from);
}
