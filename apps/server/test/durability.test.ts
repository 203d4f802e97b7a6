import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../src/store/sqlite-store.js';
import type { SendOp } from '../src/store/store.js';
import { startChild } from './child.js';
import { testEngine } from './engines/test-engine.js';
import {
  Client,
  type Frame,
  http,
  mid,
  register,
  sendAndWait,
  session,
  startServer,
  tempDir,
} from './helpers.js';

describe('restart on the same database', () => {
  it('keeps accounts, tokens (generated secret kept beside the DB), entries, cursors and the delivered mark', async () => {
    const dir = tempDir();
    const first = await startServer({ secret: null }, dir);
    const a = await register(first.url);
    const b = await register(first.url);
    const ca = await session(first.wsUrl, a.token);
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(String((await sendAndWait(ca, b.id, `r${i}`)).id));
    const cb = await session(first.wsUrl, b.token);
    cb.send({ t: 'ack', cursor: cb.backlog[3]!.cursor });
    await ca.until(() => ca.frames.filter((f) => f.t === 'receipt').length === 4, '4 receipts');
    const cursors = cb.backlog.map((m) => m.cursor);
    await first.stop();
    // On PostgreSQL (npm run test:pg) the generated secret is kept in the database instead.
    expect(fs.existsSync(`${first.dbPath}.secret`)).toBe(testEngine === 'sqlite');

    const second = await startServer({ secret: null }, dir);
    try {
      const login = await http(second.url, 'POST', '/api/login', { user: a.id, password: a.password });
      expect(login.status).toBe(200);
      // The old token (signed before the restart) still works.
      const cb2 = await session(second.wsUrl, b.token);
      expect(cb2.welcome.head).toBe(cursors[9]);
      expect(cb2.backlog.map((m) => m.id)).toEqual(ids.slice(4));
      expect(cb2.backlog.map((m) => m.cursor)).toEqual(cursors.slice(4));
      const since = await session(second.wsUrl, b.token, String(cursors[1]));
      expect(since.backlog.map((m) => m.id)).toEqual(ids.slice(2));
      expect(since.synced.gap).toBe(false);
      const ca2 = await session(second.wsUrl, a.token);
      const next = await sendAndWait(ca2, b.id, 'after restart');
      const m = await cb2.waitFor((f) => f.t === 'msg' && f.id === next.id);
      expect(String(m.cursor) > String(cursors[9])).toBe(true);
      // A resend of a message stored before the restart is still a duplicate.
      const again = await sendAndWait(ca2, b.id, 'dup', ids[0]);
      expect(again.t).toBe('sent');
    } finally {
      await second.stop();
    }
  });
});

describe('kill -9', () => {
  it('loses nothing that got `sent`: every acknowledged message is delivered exactly once after restart', async () => {
    const dir = tempDir();
    const env = {
      PIGEON_DB: path.join(dir, 'pigeon.db'),
      PIGEON_SECRET: 'kill-test-secret-0123456789abcdef0123456789',
      PIGEON_RATE: '100000',
    };
    const child = await startChild(env);
    const a = await register(child.url);
    const b = await register(child.url);
    const ca = await session(child.wsUrl, a.token);
    const ids = Array.from({ length: 2000 }, () => mid('k'));
    for (const [i, id] of ids.entries()) ca.send({ t: 'send', id, to: b.id, body: `k${i}` });
    // Kill the process while sends are still being committed.
    await ca.until(() => ca.frames.filter((f) => f.t === 'sent').length >= 300, '300 sent', 15_000);
    child.proc.kill('SIGKILL');
    await child.exited;
    const acked = ca.frames.filter((f) => f.t === 'sent').map((f) => String(f.id));
    expect(acked.length).toBeGreaterThanOrEqual(300);
    await ca.waitClose().catch(() => undefined);

    const again = await startChild(env);
    try {
      const cb = await session(again.wsUrl, b.token);
      const got = cb.backlog.map((m) => String(m.id));
      // Stored in order: what survived is a prefix of the sends, and it covers every `sent`.
      expect(got).toEqual(ids.slice(0, got.length));
      expect(got.length).toBeGreaterThanOrEqual(acked.length);
      expect(new Set(got).size).toBe(got.length);
      // The client resends everything it has no `sent` for; duplicates are absorbed.
      const ca2 = await session(again.wsUrl, a.token);
      const missing = ids.filter((id) => !acked.includes(id));
      for (const id of missing) ca2.send({ t: 'send', id, to: b.id, body: `k${ids.indexOf(id)}` });
      await ca2.until(
        () => ca2.frames.filter((f) => f.t === 'sent').length === missing.length,
        'all resent',
        15_000,
      );
      await cb.until(
        () => cb.frames.filter((f: Frame) => f.t === 'msg').length === ids.length,
        'all 2000 at b',
        15_000,
      );
      expect(cb.msgs().map((m) => m.id)).toEqual(ids);
    } finally {
      again.proc.kill('SIGKILL');
      await again.exited;
    }
  });
});

describe.skipIf(testEngine !== 'sqlite')('kill -9 with the SQLite worker threads busy', () => {
  it('during pipelined commits, acks and a retention sweep: every `sent` survives, the file is intact, sequences continue', async () => {
    const dir = tempDir();
    const dbPath = path.join(dir, 'pigeon.db');
    // A big mailbox for the start-up sweep to chew on while the sends are committed.
    const filler = await SqliteStore.open({ path: dbPath, sync: 'full', mailboxMax: 500, retentionDays: 0 });
    await filler.createUser('fill-c', null);
    await filler.createUser('fill-d', null);
    for (let n = 0; n < 60_000; ) {
      const ops: SendOp[] = [];
      for (let i = 0; i < 10_000; i++, n++)
        ops.push({ kind: 'send', from: 'fill-c', to: 'fill-d', id: `f${n}`, body: `f${n}` });
      await filler.commit(ops, async (x) => x.map(() => null));
    }
    await filler.close();
    const env = {
      PIGEON_DB: dbPath,
      PIGEON_SECRET: 'kill-test-secret-0123456789abcdef0123456789',
      PIGEON_RATE: '100000',
      PIGEON_MAILBOX_MAX: '500',
      PIGEON_RETENTION_DAYS: '0',
    };
    const child = await startChild(env);
    const a = await register(child.url);
    const b = await register(child.url);
    const ca = await session(child.wsUrl, a.token);
    const cb = await session(child.wsUrl, b.token);
    // b acks as it receives, so acks ride in the same batches as the sends.
    cb.ws.on('message', (data) => {
      const f = JSON.parse(data.toString()) as Frame;
      if (f.t === 'msg') cb.send({ t: 'ack', cursor: f.cursor });
    });
    const ids = Array.from({ length: 10_000 }, () => mid('w'));
    for (const [i, id] of ids.entries()) ca.send({ t: 'send', id, to: b.id, body: `w${i}` });
    await ca.until(() => ca.frames.filter((f) => f.t === 'sent').length >= 500, '500 sent', 15_000);
    child.proc.kill('SIGKILL');
    await child.exited;
    const acked = new Set(ca.frames.filter((f) => f.t === 'sent').map((f) => String(f.id)));

    // SQLite recovers the WAL on open: the file is intact.
    const raw = new Database(dbPath);
    expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
    raw.close();
    const store = await SqliteStore.open({ path: dbPath, sync: 'full', mailboxMax: 500, retentionDays: 0 });
    try {
      const box = (await store.mailbox(b.id))!;
      const entries = await store.readRange(b.id, 0, box.headSeq, 20_000);
      const idOf = (e: (typeof entries)[number]): string | null => ('id' in e.frame ? e.frame.id : null);
      // Killed mid-stream: not everything was stored.
      expect(entries.length).toBeLessThan(ids.length);
      // Stored in order, without gaps: seqs 1..n hold a prefix of the sends, covering every `sent`.
      expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: entries.length }, (_, i) => i + 1));
      expect(entries.map(idOf)).toEqual(ids.slice(0, entries.length));
      const stored = new Set(entries.map(idOf));
      for (const id of acked) expect(stored.has(id)).toBe(true);
      expect(box.deliveredSeq).toBeLessThanOrEqual(box.headSeq);
      // The next send continues b's sequence; the sweep finishes what the killed one began.
      const [next] = await store.commit(
        [{ kind: 'send', from: a.id, to: b.id, id: 'after', body: 'after' }],
        async (x) => x.map(() => null),
      );
      expect(next?.kind === 'stored' && next.entries.find((e) => e.owner === b.id)?.seq).toBe(
        box.headSeq + 1,
      );
      await store.sweepRetention(Date.now() + 1);
      const d = (await store.mailbox('fill-d'))!;
      expect(d.headSeq).toBe(60_000);
      expect((await store.readRange('fill-d', 0, d.headSeq, 1000)).map(idOf)).toEqual(
        Array.from({ length: 500 }, (_, i) => `f${59_500 + i}`),
      );
    } finally {
      await store.close();
    }
  });
});

describe('process lifecycle', () => {
  it('logs the real port with PORT=0, answers /healthz, and on SIGTERM closes sockets with 1001 and exits 0', async () => {
    const dir = tempDir();
    const child = await startChild({ PIGEON_DB: path.join(dir, 'db', 'pigeon.db') });
    const h = await http(child.url, 'GET', '/healthz');
    expect(h.status).toBe(200);
    const a = await register(child.url);
    const c = await session(child.wsUrl, a.token);
    child.proc.kill('SIGTERM');
    expect((await c.waitClose()).code).toBe(1001);
    expect((await child.exited).code).toBe(0);
    expect(child.output()).not.toContain(a.token);
    expect(child.output()).not.toContain(a.password);
    expect(fs.existsSync(path.join(dir, 'db', 'pigeon.db.secret'))).toBe(testEngine === 'sqlite');
  });

  it.skipIf(testEngine !== 'sqlite')(
    'uses ./data/pigeon.db relative to the working directory by default',
    async () => {
      const dir = tempDir();
      const child = await startChild({}, dir);
      try {
        expect(fs.existsSync(path.join(dir, 'data', 'pigeon.db'))).toBe(true);
      } finally {
        child.proc.kill('SIGTERM');
        await child.exited;
      }
    },
  );

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PIGEON_RATE', 'fast'],
    ['PIGEON_AUTH_RATE', '0'],
    ['PIGEON_TOKEN_TTL', '-1'],
    ['PIGEON_MAILBOX_MAX', '1.5'],
    ['PIGEON_RETENTION_DAYS', 'x'],
    ['PIGEON_LEGACY', 'maybe'],
    ['PIGEON_TRUST_PROXY', '2'],
    ['PIGEON_ORIGINS', 'not a url'],
    ['LOG_LEVEL', 'loud'],
    ['PIGEON_DB_SYNC', 'sometimes'],
  ])('a bad %s=%s stops the server at start, naming the variable', async (name, value) => {
    const dir = tempDir();
    const err = await startChild({ PIGEON_DB: path.join(dir, 'p.db'), [name]: value }).then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/exited \(2\)/);
    expect(err?.message).toContain(name);
  });
});

describe('in-process shutdown', () => {
  it('closes sockets with 1001 after committing pending sends', async () => {
    const r = await startServer({ rate: 100_000 });
    const a = await register(r.url);
    const b = await register(r.url);
    const ca = await session(r.wsUrl, a.token);
    const ids = Array.from({ length: 50 }, () => mid('s'));
    for (const id of ids) ca.send({ t: 'send', id, to: b.id, body: id });
    const closing = r.stop();
    const code = (await ca.waitClose()).code;
    await closing;
    expect(code).toBe(1001);
    const r2 = await startServer({ dbPath: r.dbPath }, r.dir);
    try {
      // Every send that was answered `sent` before the close is stored.
      const sent = ca.frames.filter((f) => f.t === 'sent').map((f) => f.id);
      const cb = await session(r2.wsUrl, b.token);
      expect(cb.backlog.map((m) => m.id)).toEqual(ids.slice(0, cb.backlog.length));
      expect(cb.backlog.length).toBeGreaterThanOrEqual(sent.length);
      const c = await Client.open(`${r2.wsUrl}/ws`);
      await c.close();
    } finally {
      await r2.stop();
    }
  });
});

describe('healthz during shutdown', () => {
  it('answers 503 on a kept-alive connection once shutdown has begun', async () => {
    const net = await import('node:net');
    const r = await startServer({});
    const a = await register(r.url);
    // An open socket keeps shutdown in its closing phase for a moment.
    const c = await session(r.wsUrl, a.token);
    const sock = net.connect(r.port, '127.0.0.1');
    let data = '';
    sock.on('data', (d) => {
      data += d.toString();
    });
    sock.on('error', () => {});
    const req = `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${r.port}\r\nConnection: keep-alive\r\n\r\n`;
    sock.write(req);
    await new Promise<void>((resolve) => {
      const check = () => (data.includes('{"ok":true}') ? resolve() : setTimeout(check, 5));
      check();
    });
    const closing = r.stop();
    sock.write(req);
    await closing;
    await c.waitClose();
    const statuses = [...data.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
    expect(statuses).toEqual(['200', '503']);
  });
});
