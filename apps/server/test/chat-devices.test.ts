import { afterAll, describe, expect, it } from 'vitest';
import { CHAT, chatSession, ok, request, sendMsg } from './chat-helpers.js';
import {
  type Account,
  type Frame,
  fence,
  type Running,
  register,
  type Session,
  startServer,
  tempDir,
} from './helpers.js';

/*
 * PROTOCOL.md "Updates": every change reaches every device of both people exactly once, in
 * order, through the mailbox, live and across a reconnect and a server restart. Two devices
 * of one user and one of the peer; read marks, unread counts, edits and deletions.
 */

/** One device: its connections one after another, resuming from the last entry it got. */
class Device {
  /** Every mailbox entry (msg or update) this device was sent, over all its connections. */
  readonly entries: Frame[] = [];
  private conn: Session | null = null;
  private taken = 0;

  constructor(
    readonly name: string,
    private readonly account: Account,
  ) {}

  get session(): Session {
    if (!this.conn) throw new Error(`${this.name} is not connected`);
    return this.conn;
  }

  async connect(s: Running): Promise<void> {
    const last = this.entries.at(-1);
    this.conn = await chatSession(s.wsUrl, this.account.token, CHAT, last ? String(last.cursor) : undefined);
    expect(this.conn.synced.gap, `${this.name} resumes without a gap`).toBe(false);
    this.taken = 0;
    this.collect();
  }

  /** Moves what arrived on the connection into `entries`, after a ping fence. */
  async sync(): Promise<void> {
    await fence(this.session);
    this.collect();
  }

  private collect(): void {
    const frames = this.session.frames;
    for (; this.taken < frames.length; this.taken++) {
      const f = frames[this.taken]!;
      if (f.t === 'msg' || f.t === 'update') this.entries.push(f);
    }
  }

  async disconnect(): Promise<void> {
    await this.sync();
    await this.conn?.close();
    this.conn = null;
  }

  /** The updates of `kind` it got, in order. */
  updates(kind: string): Frame[] {
    return this.entries.filter((f) => f.t === 'update' && f.kind === kind);
  }

  /** Waits until its current connection got a frame matching `pred`. */
  waitFor(pred: (f: Frame) => boolean, what: string): Promise<Frame> {
    return this.session.waitFor(pred, `${this.name}: ${what}`);
  }
}

/** Exactly once and in order: cursors strictly increasing (no repeat, no reordering). */
function expectOnceInOrder(device: Device): void {
  const cursors = device.entries.map((f) => String(f.cursor));
  expect(new Set(cursors).size, `${device.name}: repeats`).toBe(cursors.length);
  expect([...cursors].sort(), `${device.name}: order`).toEqual(cursors);
}

/** What a device would show: its entries with the mailbox-specific cursor left out. */
function shown(device: Device): unknown[] {
  return device.entries.map(({ cursor: _cursor, ...rest }) => rest);
}

const servers: Running[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop().catch(() => {});
});

describe('two devices of one user and one of the peer', () => {
  it('read marks, unread counts, edits and deletions reach every device exactly once, in order: live, after a reconnect, after a restart', async () => {
    const dir = tempDir();
    let s = await startServer({ rate: 100_000 }, dir);
    servers.push(s);
    const a = await register(s.url);
    const b = await register(s.url);
    const a1 = new Device('a1', a);
    const a2 = new Device('a2', a);
    const b1 = new Device('b1', b);
    for (const d of [a1, a2, b1]) await d.connect(s);

    // Live.
    const m1 = await sendMsg(b1.session, a.id, 'one');
    const m2 = await sendMsg(b1.session, a.id, 'two');
    const m3 = await sendMsg(b1.session, a.id, 'three');
    const m2OnA = await a1.waitFor((f) => f.t === 'msg' && f.id === m2.id, 'm2');
    await a2.waitFor((f) => f.t === 'msg' && f.id === m3.id, 'm3');
    const rows = async (d: Device) =>
      ((await request(d.session, { t: 'conversations' })).items as Record<string, unknown>[]).map((r) => [
        r.with,
        r.unread,
        r.readUpto,
      ]);
    expect(await rows(a2)).toEqual([[b.id, 3, null]]);
    await ok(a1.session, { t: 'read', with: b.id, upto: m2OnA.cursor });
    const readOnA2 = await a2.waitFor((f) => f.t === 'update' && f.kind === 'read', 'read');
    expect(readOnA2).toMatchObject({ with: b.id, upto: m2OnA.cursor, unread: 1 });
    expect(await b1.waitFor((f) => f.t === 'update' && f.kind === 'seen', 'seen')).toMatchObject({
      with: a.id,
      upto: m2.cursor,
    });
    await ok(b1.session, { t: 'edit', from: b.id, id: m3.id, body: 'three, edited' });
    await ok(b1.session, { t: 'delete', from: b.id, id: m1.id });
    await a1.waitFor((f) => f.t === 'update' && f.kind === 'delete', 'delete');
    await a2.waitFor((f) => f.t === 'update' && f.kind === 'delete', 'delete');
    for (const d of [a1, a2]) expect(await rows(d)).toEqual([[b.id, 1, m2OnA.cursor]]);

    // a2 away: a1 reads everything, b sends and deletes; a2 comes back from where it was.
    await a2.disconnect();
    const m3OnA = a1.session.frames.find((f) => f.t === 'msg' && f.id === m3.id)!;
    await ok(a1.session, { t: 'read', with: b.id, upto: m3OnA.cursor });
    const m4 = await sendMsg(b1.session, a.id, 'four');
    await ok(b1.session, { t: 'delete', from: b.id, id: m2.id });
    await a1.waitFor((f) => f.t === 'update' && f.kind === 'delete' && f.id === m2.id, 'second delete');
    await a2.connect(s);
    const backlog = a2.session.backlog.map((f) => [f.t, f.kind ?? f.id]);
    expect(backlog).toEqual([
      ['update', 'read'],
      ['msg', m4.id],
      ['update', 'delete'],
    ]);

    // Restart the server while a2 is away again; more changes before and after it.
    await a2.disconnect();
    await ok(b1.session, { t: 'edit', from: b.id, id: m4.id, body: 'four, edited' });
    await a1.waitFor((f) => f.t === 'update' && f.kind === 'edit' && f.id === m4.id, 'edit of m4');
    for (const d of [a1, b1]) await d.disconnect();
    await s.stop();
    s = await startServer({ rate: 100_000 }, dir);
    servers.push(s);
    for (const d of [a1, a2, b1]) await d.connect(s);
    const m4OnA = a1.entries.find((f) => f.t === 'msg' && f.id === m4.id)!;
    await ok(a2.session, { t: 'read', with: b.id, upto: m4OnA.cursor });
    await a1.waitFor((f) => f.t === 'update' && f.kind === 'read' && f.unread === 0, 'read after restart');
    await b1.waitFor(
      (f) => f.t === 'update' && f.kind === 'seen' && f.upto === m4.cursor,
      'seen after restart',
    );
    for (const d of [a1, a2, b1]) await d.sync();

    // Every device of a: the same entries, exactly once, in order.
    for (const d of [a1, a2, b1]) expectOnceInOrder(d);
    expect(shown(a2)).toEqual(shown(a1));
    expect(a1.entries.map((f) => (f.t === 'msg' ? `msg ${f.id}` : `${f.kind} ${f.id ?? f.unread}`))).toEqual([
      `msg ${m1.id}`,
      `msg ${m2.id}`,
      `msg ${m3.id}`,
      'read 1',
      `edit ${m3.id}`,
      `delete ${m1.id}`,
      'read 0',
      `msg ${m4.id}`,
      `delete ${m2.id}`,
      `edit ${m4.id}`,
      'read 0',
    ]);
    // The peer: its messages, the read receipts of them, its own changes, once each.
    expect(b1.entries.map((f) => (f.t === 'msg' ? `msg ${f.id}` : `${f.kind}`))).toEqual([
      `msg ${m1.id}`,
      `msg ${m2.id}`,
      `msg ${m3.id}`,
      'seen',
      'edit',
      'delete',
      'seen',
      `msg ${m4.id}`,
      'delete',
      'edit',
      'seen',
    ]);
    // A new device shows the same counts and the current state of every message.
    const a3 = new Device('a3', a);
    await a3.connect(s);
    expect(await rows(a3)).toEqual(await rows(a1));
    expect(await rows(a3)).toEqual([[b.id, 0, m4OnA.cursor]]);
    const h = await request(a3.session, { t: 'history', with: b.id });
    expect((h.items as Record<string, unknown>[]).map((m) => [m.body, m.deleted ?? false, m.read])).toEqual([
      ['', true, true],
      ['', true, true],
      ['three, edited', false, true],
      ['four, edited', false, true],
    ]);
    for (const d of [a1, a2, b1, a3]) await d.disconnect();
  });
});
