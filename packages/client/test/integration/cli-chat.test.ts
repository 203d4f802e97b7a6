import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { CLI_MAIN, registerUser, ServerProcess, waitFor } from '../server-process.js';

// The chat commands of the `pigeon` CLI (issue 10) as real processes against the real server:
// ids shown, edit, react, reply, delete, read, search (a Chinese word), block, receipts, and
// `listen` printing the updates, with typed refusals as exit codes.

const server = new ServerProcess({ PIGEON_RATE: '1000' });
let dir = '';
const children: ChildProcess[] = [];

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function spawnCli(args: string[], config: string) {
  const env = { ...process.env, PIGEON_CONFIG: join(dir, config), PIGEON_PASSWORD: 'password123' };
  const child = spawn(process.execPath, [CLI_MAIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => {
    out.stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    out.stderr += d.toString();
  });
  const done = new Promise<Result>((resolve) => child.once('exit', (code) => resolve({ code, ...out })));
  child.stdin.end();
  return { child, out, done };
}

const cli = (args: string[], config: string) => spawnCli(args, config).done;

/** The id of the last message line of `history` output. */
function lastId(text: string): string {
  const ids = [...text.matchAll(/^\S+ \S+ -> \S+ \[([^\]]+)\]/gm)].map((m) => m[1]);
  const id = ids.at(-1);
  if (!id) throw new Error(`no message line in:\n${text}`);
  return id;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pigeon-cli-chat-'));
  await server.start();
  for (const user of ['cc_alice', 'cc_bob']) {
    await registerUser(server.url, user);
    const login = await cli(['login', '--server', server.url, '--user', user], `${user}.json`);
    expect(login.code).toBe(0);
  }
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await server.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('pigeon chat commands', () => {
  it('edit, react, reply, delete and read, as both people see them', async () => {
    const listen = spawnCli(['listen'], 'cc_bob.json');
    await waitFor(() => listen.out.stderr.includes('listening'), 10_000, 'listen');
    expect((await cli(['send', 'cc_bob', 'helo'], 'cc_alice.json')).code).toBe(0);
    const hist = await cli(['history', 'cc_alice'], 'cc_bob.json');
    const id = lastId(hist.stdout);

    expect(await cli(['edit', id, 'hello'], 'cc_alice.json')).toMatchObject({
      code: 0,
      stdout: `edited ${id}\n`,
    });
    expect((await cli(['react', `cc_alice/${id}`, '👍'], 'cc_bob.json')).code).toBe(0);
    expect((await cli(['send', 'cc_alice', 'hi!', '--reply-to', `cc_alice/${id}`], 'cc_bob.json')).code).toBe(
      0,
    );
    const seen = (await cli(['history', 'cc_bob'], 'cc_alice.json')).stdout;
    expect(seen).toContain(`cc_alice -> cc_bob [${id}]: hello (edited)\n  reactions: 👍 cc_bob\n`);
    expect(seen).toContain(`cc_bob -> cc_alice [`);
    expect(seen).toContain(`]: hi!\n  > reply to cc_alice [${id}]: hello\n`);

    // listen printed the updates as they came (the reply is the fence: it came after them)
    await waitFor(() => listen.out.stdout.includes('hi!'), 10_000, 'the reply in listen');
    expect(listen.out.stdout).toMatch(new RegExp(`\\* cc_alice edited \\[${id}\\]: hello\\n`));
    expect(listen.out.stdout).toMatch(new RegExp(`\\* cc_bob reacted 👍 to cc_alice \\[${id}\\]\\n`));
    listen.child.kill('SIGTERM');
    expect((await listen.done).code).toBe(0);

    // refusals are typed: someone else's message, a deleted one
    expect((await cli(['edit', `cc_bob/${lastId(seen)}`, 'mine'], 'cc_alice.json')).code).toBe(
      ExitCode.refused,
    );
    expect((await cli(['delete', id], 'cc_alice.json')).code).toBe(0);
    const edited = await cli(['edit', id, 'back again'], 'cc_alice.json');
    expect(edited.code).toBe(ExitCode.refused);
    expect(edited.stderr).toContain('message_deleted');
    expect((await cli(['history', 'cc_alice'], 'cc_bob.json')).stdout).toContain(`[${id}]: (deleted)`);
    expect((await cli(['react', 'not an id', '👍'], 'cc_bob.json')).code).toBe(ExitCode.usage);

    // reading: the unread count goes to 0
    expect((await cli(['conversations'], 'cc_alice.json')).stdout).toMatch(/^cc_bob \(1 unread\)\t/);
    expect((await cli(['read', 'cc_bob'], 'cc_alice.json')).code).toBe(0);
    expect((await cli(['conversations'], 'cc_alice.json')).stdout).toMatch(/^cc_bob\t/);
  });

  it('listen --mark-read marks what it printed as read: the sender sees it read', async () => {
    const listen = spawnCli(['listen', '--mark-read', '--json'], 'cc_bob.json');
    await waitFor(() => listen.out.stderr.includes('listening'), 10_000, 'listen');
    expect((await cli(['send', 'cc_bob', 'did you read this?'], 'cc_alice.json')).code).toBe(0);
    await waitFor(() => listen.out.stdout.includes('"kind":"read"'), 10_000, 'the read update in listen');
    listen.child.kill('SIGTERM');
    await listen.done;
    const sent = (await cli(['history', 'cc_bob', '--json', '--limit', '1'], 'cc_alice.json')).stdout;
    expect(JSON.parse(sent)).toMatchObject({ body: 'did you read this?', read: true });
  });

  it('search marks the hits, block and receipts are stored settings', async () => {
    expect((await cli(['send', 'cc_bob', '我会说中文吗'], 'cc_alice.json')).code).toBe(0);
    const found = await cli(['search', '中文', '--with', 'cc_alice'], 'cc_bob.json');
    expect(found).toMatchObject({ code: 0 });
    expect(found.stdout).toMatch(/cc_alice -> cc_bob \[[^\]]+\]: 我会说\*\*中文\*\*吗\n/);
    expect((await cli(['search', 'nothingmatchesthis'], 'cc_bob.json')).stderr).toContain(
      'no message matches',
    );

    expect(await cli(['block', 'cc_alice'], 'cc_bob.json')).toMatchObject({
      code: 0,
      stdout: 'blocked cc_alice\n',
    });
    expect((await cli(['blocked'], 'cc_bob.json')).stdout).toBe('cc_alice\n');
    expect((await cli(['unblock', 'cc_alice'], 'cc_bob.json')).code).toBe(0);
    expect((await cli(['blocked'], 'cc_bob.json')).stdout).toBe('');
    expect((await cli(['block', 'cc_bob'], 'cc_bob.json')).code).toBe(ExitCode.usage);

    expect(await cli(['receipts', 'off'], 'cc_bob.json')).toMatchObject({
      code: 0,
      stdout: 'read receipts off\n',
    });
    expect((await cli(['receipts'], 'cc_bob.json')).stdout).toBe('read receipts off\n');
    expect((await cli(['receipts', 'maybe'], 'cc_bob.json')).code).toBe(ExitCode.usage);
  });
});
