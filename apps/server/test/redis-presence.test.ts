import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { REAP_EVERY_MS } from '../src/router/redis-presence.js';
import type { Store } from '../src/store/store.js';
import { RedisServer, redisAvailable } from './engines/redis.js';
import { Recorder, Signal, sqliteStore } from './live-contract/harness.js';
import { freshPrefix, redisParts, type TestParts } from './redis-helpers.js';

const hasRedis = redisAvailable('the Redis presence tests');
const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/presence-node.mjs');

/** A presence-only node in a process of its own; resolves once its users show online. */
function presenceNode(url: string, prefix: string, ttlMs: number, users: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, [FIXTURE, url, prefix, String(ttlMs), ...users], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`presence node not ready:\n${out}`)), 10_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready ')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.stderr!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`presence node exited ${code}:\n${out}`));
    });
  });
}

describe.skipIf(!hasRedis)('redis presence: nodes that die, a Redis that forgets', () => {
  let redis: RedisServer;
  let db: ReturnType<typeof sqliteStore>;
  let store: Store;
  let signal: Signal;
  let nodes: TestParts[] = [];
  let children: ChildProcess[] = [];
  let prefix = '';

  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  beforeEach(() => {
    db = sqliteStore();
    store = db.store;
    signal = new Signal();
    prefix = freshPrefix();
  });
  afterEach(async () => {
    for (const c of children) c.kill('SIGKILL');
    children = [];
    await Promise.all(nodes.map((n) => n.close()));
    nodes = [];
    await db.destroy();
  });

  function node(overrides: Parameters<typeof redisParts>[3] = {}): TestParts {
    const n = redisParts(redis, store, prefix, overrides);
    nodes.push(n);
    return n;
  }

  it('a node killed with -9 takes its users offline within its TTL plus one reaper period', async () => {
    const ttl = 1500;
    const a = node({ nodeTtlMs: ttl });
    const b = node({ nodeTtlMs: ttl });
    const child = await presenceNode(redis.url, prefix, ttl, ['uma', 'vic']);
    children.push(child);
    // vic also has a connection on node b: vic stays online.
    const vic = new Recorder('vic', signal);
    b.presence.join(vic);
    const w = new Recorder('watcher', signal);
    a.presence.join(w);
    await a.presence.watch(w, ['uma', 'vic']);
    await signal.until(
      () => w.presenceOf('uma').at(-1) === true && w.presenceOf('vic').at(-1) === true,
      'online',
    );
    const killedAt = Date.now();
    child.kill('SIGKILL');
    await signal.until(() => w.presenceOf('uma').at(-1) === false, 'uma offline', ttl + REAP_EVERY_MS + 3000);
    const took = Date.now() - killedAt;
    // The bound written in the README: TTL + one reaper period (+ scheduling slack here).
    expect(took).toBeLessThan(ttl + REAP_EVERY_MS + 500);
    expect(w.presenceOf('vic')).toEqual([true]);
    // Exactly one node's reaper took the dead node's users offline.
    const reaped =
      (await a.metric('pigeon_presence_nodes_reaped_total')) +
      (await b.metric('pigeon_presence_nodes_reaped_total'));
    expect(reaped).toBe(1);
  });

  it("a clean shutdown takes the node's users offline at once", async () => {
    const a = node();
    const b = node();
    const w = new Recorder('watcher', signal);
    a.presence.join(w);
    const xia = new Recorder('xia', signal);
    b.presence.join(xia);
    await a.presence.watch(w, ['xia']);
    await signal.until(() => w.presenceOf('xia').at(-1) === true, 'online');
    await b.close();
    await signal.until(() => w.presenceOf('xia').at(-1) === false, 'offline', 3000);
    // The first answer may predate xia's join reaching Redis (false, then true): from the
    // first true on, exactly one change, to offline.
    const seen = w.presenceOf('xia');
    expect(seen.slice(seen.indexOf(true))).toEqual([true, false]);
  });

  it('after Redis restarts empty, every node registers its users again and watchers converge', async () => {
    const a = node();
    const b = node();
    const w = new Recorder('watcher', signal);
    a.presence.join(w);
    const yan = new Recorder('yan', signal);
    const zed = new Recorder('zed', signal);
    b.presence.join(yan);
    b.presence.join(zed);
    await a.presence.watch(w, ['yan', 'zed']);
    await signal.until(
      () => w.presenceOf('yan').at(-1) === true && w.presenceOf('zed').at(-1) === true,
      'online',
    );
    await redis.kill();
    // zed leaves while Redis is away: that change cannot be published now.
    b.presence.leave(zed);
    await redis.restart();
    await signal.until(() => w.presenceOf('zed').at(-1) === false, 'zed offline after the restart', 15_000);
    // yan never left: whatever flickered during the restart, yan ends online.
    await signal.until(() => w.presenceOf('yan').at(-1) === true, 'yan online', 15_000);
    const remote = new Recorder('late', signal);
    a.presence.join(remote);
    await a.presence.watch(remote, ['yan', 'zed']);
    await signal.until(() => remote.presence.length === 2, 'a fresh watch');
    expect(new Map(remote.presence)).toEqual(
      new Map([
        ['yan', true],
        ['zed', false],
      ]),
    );
  });

  it('a node started while Redis is down serves its users, and joins the cluster once Redis is up', async () => {
    await redis.kill();
    let a: TestParts;
    try {
      a = node();
      const ann = new Recorder('ann', signal);
      a.presence.join(ann);
      // Works without Redis: the send bucket decides locally, a watch answers what it knows.
      expect(await a.sendLimiter.take('ann', Date.now())).toBe(0);
      const w = new Recorder('w', signal);
      a.presence.join(w);
      await a.presence.watch(w, ['ann']);
      expect(w.presenceOf('ann')).toEqual([true]);
    } finally {
      await redis.restart();
    }
    // Once Redis is there, the node registers its users: another node sees ann online.
    const b = node();
    const w2 = new Recorder('w2', signal);
    b.presence.join(w2);
    void b.presence.watch(w2, ['ann']);
    await signal.until(() => w2.presenceOf('ann').at(-1) === true, 'ann online from node b', 10_000);
    expect(a.link.commandsUp).toBe(true);
  });

  it('a watch answers from what this node knows when Redis does not answer', async () => {
    const a = node({ waitMs: 300 });
    const ann = new Recorder('ann', signal);
    a.presence.join(ann);
    const w = new Recorder('watcher', signal);
    a.presence.join(w);
    redis.signal('SIGSTOP');
    try {
      const started = Date.now();
      await a.presence.watch(w, ['ann', 'bob']);
      await signal.until(() => w.presence.length === 2, 'a guessed answer', 3000);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(new Map(w.presence)).toEqual(
        new Map([
          ['ann', true],
          ['bob', false],
        ]),
      );
    } finally {
      redis.signal('SIGCONT');
    }
  });
});
