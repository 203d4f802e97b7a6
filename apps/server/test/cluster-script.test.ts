import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { clusterAvailable } from './engines/cluster.js';
import { Client, http } from './helpers.js';

/**
 * `npm run cluster` as a new user runs it (minus the build): PostgreSQL, Redis, three
 * nodes and nginx come up on one port; two users connected through that port land on
 * different nodes and chat; Ctrl-C (SIGINT) stops every process it started.
 */
const SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../scripts/cluster/run.mjs');
const nginx = ['/usr/sbin/nginx', '/usr/bin/nginx'].some((p) => fs.existsSync(p));
if (!nginx && process.env.CI === 'true') throw new Error('nginx is missing: apt-get install -y nginx');
if (!nginx)
  console.warn('\n*** SKIPPED the npm run cluster test: nginx is missing (apt-get install -y nginx) ***\n');
const ready = clusterAvailable('the npm run cluster test') && nginx;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createConnection(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Opens /ws through the proxy; resolves with the client and the node that answered the upgrade. */
function openThrough(url: string): Promise<{ client: Client; node: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url}/ws`, { perMessageDeflate: false });
    const client = new Client(ws);
    let node = '';
    ws.once('upgrade', (res) => {
      node = String(res.headers['x-pigeon-node'] ?? '');
    });
    ws.once('open', () => resolve({ client, node }));
    ws.once('error', reject);
  });
}

describe.skipIf(!ready)('npm run cluster', () => {
  // Not under the tests' private temp root: PostgreSQL runs as `postgres` and must reach it.
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'pigeon-cluster-test-'));
  fs.chmodSync(data, 0o755);
  let child: ChildProcess | null = null;
  let out = '';
  afterAll(async () => {
    // A test that failed half way: SIGINT lets the script stop what it started (its
    // children run in process groups of their own and would outlive a SIGKILL of it).
    const c = child;
    if (c && c.exitCode === null && c.signalCode === null) {
      const gone = new Promise((resolve) => c.once('exit', resolve));
      c.kill('SIGINT');
      const force = setTimeout(() => c.kill('SIGKILL'), 30_000);
      await gone;
      clearTimeout(force);
    }
    fs.rmSync(data, { recursive: true, force: true });
  }, 40_000);

  it('starts PostgreSQL, Redis, 3 nodes and nginx on one port; two users on different nodes chat; SIGINT stops it all', async () => {
    const port = await freePort();
    child = spawn(process.execPath, [SCRIPT], {
      env: { ...process.env, PORT: String(port), CLUSTER_DATA: data, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the cluster did not come up:\n${out}`)), 90_000);
      const onData = (d: Buffer): void => {
        out += d.toString();
        if (out.includes('Ctrl-C stops everything')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child!.stdout!.on('data', onData);
      child!.stderr!.on('data', onData);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`the script exited ${code}:\n${out}`));
      });
    });
    const url = `http://127.0.0.1:${port}`;
    const ports = [...out.matchAll(/http:\/\/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1]));
    const pgPort = Number(/postgres:\/\/pigeon@127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
    const redisPort = Number(/redis:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
    const nodePorts = [...new Set(ports.filter((p) => p !== port))];
    expect(nodePorts).toHaveLength(3);

    const alice = await http(url, 'POST', '/api/register', { user: 'scriptalice', password: 'password123' });
    const bob = await http(url, 'POST', '/api/register', { user: 'scriptbob', password: 'password123' });
    expect([alice.status, bob.status]).toEqual([201, 201]);
    // Two connections in a row: round robin puts them on two different nodes.
    const a = await openThrough(url);
    const b = await openThrough(url);
    expect(a.node).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(b.node).not.toBe(a.node);
    a.client.send({ t: 'hello', v: 1, token: alice.json!.token });
    b.client.send({ t: 'hello', v: 1, token: bob.json!.token });
    await a.client.waitFor((f) => f.t === 'synced', 'alice synced');
    await b.client.waitFor((f) => f.t === 'synced', 'bob synced');
    a.client.send({ t: 'send', id: 'hello-1', to: 'scriptbob', body: 'hi from another node' });
    const m = await b.client.waitFor((f) => f.t === 'msg' && f.id === 'hello-1', 'the message', 10_000);
    expect(m).toMatchObject({ from: 'scriptalice', body: 'hi from another node' });
    await a.client.close();
    await b.client.close();

    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out).toContain('stopped.');
    for (const p of [port, pgPort, redisPort, ...nodePorts]) expect(await portOpen(p)).toBe(false);
  });
});
