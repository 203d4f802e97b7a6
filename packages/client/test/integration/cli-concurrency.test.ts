import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_MAIN, ServerProcess, waitFor } from '../server-process.js';

// Many `pigeon` processes sharing one state directory (issue 13): nothing lost, nothing
// doubled, the cursor never moves backwards; and what a message carries cannot command the
// terminal (issue 9.7). Real server, real processes.

// Fifty senders of one user connect at once: the server's per-user caps are raised so the
// test measures the storage, not the (separately tested) hello rate.
const server = new ServerProcess({
  PIGEON_RATE: '1000',
  PIGEON_MAX_CONNS_PER_USER: '200',
  PIGEON_HELLO_RATE: '10000',
  PIGEON_HELLO_RATE_IP: '10000',
});
let dir = '';
const children: ChildProcess[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pigeon-cli-many-'));
  await server.start();
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await server.dispose();
  rmSync(dir, { recursive: true, force: true });
});

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

const env = (config: string) => ({
  ...process.env,
  PIGEON_CONFIG: join(dir, config),
  PIGEON_PASSWORD: 'password123',
});

function spawnCli(args: string[], config: string) {
  const child = spawn(process.execPath, [CLI_MAIN, ...args], {
    env: env(config),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(child);
  child.stdin.end();
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => {
    out.stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    out.stderr += d.toString();
  });
  const done = new Promise<Result>((resolve) => child.once('exit', (code) => resolve({ code, ...out })));
  return { child, out, done };
}

const cli = (args: string[], config: string) => spawnCli(args, config).done;

describe('pigeon processes sharing one state directory', () => {
  it('listen beside 50 concurrent sends: every message delivered exactly once, the cursor never backwards', async () => {
    expect((await cli(['register', '--server', server.url, '--user', 'many_alice'], 'alice.json')).code).toBe(
      0,
    );
    expect((await cli(['register', '--server', server.url, '--user', 'many_bob'], 'bob.json')).code).toBe(0);
    // Bob listens with his state shared with his own concurrent sends (the racy case: one
    // process moves the cursor while others rewrite the outbox in the same directory).
    const listen = spawnCli(['listen', '--json'], 'bob.json');
    await waitFor(() => listen.out.stderr.includes('listening'), 10_000, 'listen');
    const cursorFile = join(dir, 'bob.state', 'pigeon%3Au%3Amany_bob%3Acursor');
    const cursors: string[] = [];
    const sampler = setInterval(() => {
      try {
        cursors.push(readFileSync(cursorFile, 'utf8'));
      } catch {
        // not written yet
      }
    }, 5);

    const sends = Array.from({ length: 50 }, (_, i) =>
      cli(['send', 'many_bob', `m${i}`, '--timeout', '60'], 'alice.json'),
    );
    // Bob writes back from his own state directory at the same time.
    const replies = Array.from({ length: 10 }, (_, i) =>
      cli(['send', 'many_alice', `r${i}`, '--timeout', '60'], 'bob.json'),
    );
    const results = await Promise.all([...sends, ...replies]);
    for (const r of results) expect(r, r.stderr).toMatchObject({ code: 0 });

    // The fence: sent after every send exited, so it is the newest entry of Bob's mailbox.
    expect((await cli(['send', 'many_bob', 'fence'], 'alice.json')).code).toBe(0);
    await waitFor(() => listen.out.stdout.includes('"fence"'), 20_000, 'the fence');
    listen.child.kill('SIGTERM');
    expect((await listen.done).code).toBe(0);
    clearInterval(sampler);

    const frames = listen.out.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { t: string; from?: string; body?: string; cursor?: string });
    const fromAlice = frames.filter((f) => f.t === 'msg' && f.from === 'many_alice').map((f) => f.body);
    expect([...fromAlice].sort()).toEqual([...Array.from({ length: 50 }, (_, i) => `m${i}`), 'fence'].sort());
    expect(fromAlice.at(-1)).toBe('fence');
    const own = frames.filter((f) => f.t === 'msg' && f.from === 'many_bob').map((f) => f.body);
    expect([...own].sort()).toEqual(Array.from({ length: 10 }, (_, i) => `r${i}`).sort());
    // Never backwards (cursors are opaque: their order is the order Bob received them in),
    // and it ends at the last entry Bob processed.
    const order = frames.filter((f) => f.t === 'msg').map((f) => f.cursor);
    const positions = cursors.map((c) => order.indexOf(c));
    expect(positions.length).toBeGreaterThan(0);
    expect(positions.every((p) => p >= 0)).toBe(true);
    for (let i = 1; i < positions.length; i++)
      expect(positions[i]).toBeGreaterThanOrEqual(positions[i - 1] ?? 0);
    expect(readFileSync(cursorFile, 'utf8')).toBe(order.at(-1));
    // Nothing is left pending in either outbox.
    for (const user of ['alice', 'bob']) {
      const outbox = join(dir, `${user}.state`, `pigeon%3Au%3Amany_${user}%3Aoutbox`);
      const items = JSON.parse(readFileSync(outbox, 'utf8')) as { state: string }[];
      expect(items.filter((i) => i.state === 'pending')).toEqual([]);
    }
  }, 180_000);

  it('prints control characters and bidi overrides escaped, never raw', async () => {
    const hostile =
      'hi\u001b]0;pwned\u0007\r\n2026-01-01T00:00:00.000Z admin -> many_bob: fake\u202egnp.exe\u009b2J';
    expect((await cli(['send', 'many_bob', hostile], 'alice.json')).code).toBe(0);
    const listen = spawnCli(['listen'], 'bob.json');
    await waitFor(() => listen.out.stdout.includes('pwned'), 10_000, 'the hostile message');
    listen.child.kill('SIGTERM');
    const { stdout } = await listen.done;
    expect(controlsIn(stdout)).toEqual([]);
    expect(stdout.trim().split('\n')).toHaveLength(1);
    expect(stdout).toMatch(/many_alice -> many_bob \[[0-9a-f-]{36}\]: hi\\e\]0;pwned/);
    expect(stdout).toContain(
      ': hi\\e]0;pwned\\x07\\r\\n2026-01-01T00:00:00.000Z admin -> many_bob: fake\\u{202e}gnp.exe\\u{009b}2J',
    );
    const history = await cli(['history', 'many_bob', '--json'], 'alice.json');
    const last = history.stdout.trim().split('\n').at(-1) ?? '';
    expect(controlsIn(last)).toEqual([]);
    expect((JSON.parse(last) as { body: string }).body).toBe(hostile);
  });
});

/** The characters a terminal would act on (what the CLI must never print raw), as code points. */
function controlsIn(text: string): number[] {
  const bad = (c: number) =>
    (c < 0x20 && c !== 0x09 && c !== 0x0a) ||
    (c >= 0x7f && c <= 0x9f) ||
    (c >= 0x202a && c <= 0x202e) ||
    (c >= 0x2066 && c <= 0x2069);
  return [...text].map((ch) => ch.codePointAt(0) ?? 0).filter(bad);
}
