import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { CLI_MAIN, freePort, ServerProcess, waitFor } from '../server-process.js';

// The `pigeon` CLI as a real process (the built dist/cli/main.js) against the real server.

const server = new ServerProcess({ PIGEON_RATE: '1000' });
let dir = '';
const children: ChildProcess[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pigeon-cli-test-'));
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

function cliEnv(config: string, extra: Record<string, string> = {}) {
  return { ...process.env, PIGEON_CONFIG: join(dir, config), PIGEON_PASSWORD: 'password123', ...extra };
}

function spawnCli(args: string[], env: NodeJS.ProcessEnv) {
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
  return { child, out, done };
}

function cli(args: string[], env: NodeJS.ProcessEnv): Promise<Result> {
  const { child, done } = spawnCli(args, env);
  child.stdin.end();
  return done;
}

describe('pigeon CLI', () => {
  it('registers and logs in, saving the session privately; refuses taken ids and bad passwords', async () => {
    const reg = await cli(['register', '--server', server.url, '--user', 'Cli_Alice'], cliEnv('alice.json'));
    expect(reg).toMatchObject({ code: 0 });
    expect(reg.stdout).toContain('cli_alice');
    const saved = JSON.parse(readFileSync(join(dir, 'alice.json'), 'utf8'));
    expect(saved).toMatchObject({ server: server.url, user: 'cli_alice' });
    expect(typeof saved.token).toBe('string');
    expect(statSync(join(dir, 'alice.json')).mode & 0o077).toBe(0);

    const taken = await cli(['register', '--server', server.url, '--user', 'cli_alice'], cliEnv('x.json'));
    expect(taken.code).toBe(ExitCode.refused);
    expect(taken.stderr).toContain('user_taken');
    const bad = await cli(
      ['login', '--server', server.url, '--user', 'cli_alice'],
      cliEnv('x.json', { PIGEON_PASSWORD: 'wrong-password' }),
    );
    expect(bad.code).toBe(ExitCode.badCredentials);
    expect(bad.stderr).toContain('bad credentials');
    // The password can also come from stdin when it is not a terminal.
    const { PIGEON_PASSWORD: _password, ...env } = cliEnv('bob.json');
    const { child, done } = spawnCli(['register', '--server', server.url, '--user', 'cli_bob'], env);
    child.stdin.end('password123\n');
    expect((await done).code).toBe(0);
  });

  it('send/listen round trip: listen prints JSON lines and acks; send exits 0 after sent', async () => {
    const listen = spawnCli(['listen', '--json'], cliEnv('bob.json'));
    await waitFor(() => listen.out.stderr.includes('listening'), 10_000, 'listen to connect');
    const sent = await cli(['send', 'CLI_BOB', 'hello', 'from the cli'], cliEnv('alice.json'));
    expect(sent.code).toBe(0);
    expect(sent.stdout).toMatch(/^sent [0-9a-f-]{36} at \d{4}-/);
    await waitFor(() => listen.out.stdout.includes('from the cli'), 10_000, 'listen to print');
    const first = JSON.parse(listen.out.stdout.trim().split('\n')[0] ?? '{}');
    expect(first).toMatchObject({ t: 'msg', from: 'cli_alice', to: 'cli_bob', body: 'hello from the cli' });
    listen.child.kill('SIGTERM');
    expect((await listen.done).code).toBe(0);

    // It was acknowledged: the sender's history shows it delivered, and a new listen starts empty.
    const hist = await cli(['history', 'cli_bob', '--json'], cliEnv('alice.json'));
    expect(hist.code).toBe(0);
    expect(JSON.parse(hist.stdout.trim())).toMatchObject({ body: 'hello from the cli', delivered: true });
    const again = spawnCli(['listen'], cliEnv('bob.json'));
    await waitFor(() => again.out.stderr.includes('listening'), 10_000, 'second listen');
    // A fence instead of a sleep: what the server delivers after the backlog comes in order,
    // so once this message is printed, anything replayed would have been printed before it.
    expect((await cli(['send', 'cli_bob', 'fence 1'], cliEnv('alice.json'))).code).toBe(0);
    await waitFor(() => again.out.stdout.includes('fence 1'), 10_000, 'the fence');
    again.child.kill('SIGINT');
    const second = await again.done;
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/^\S+ cli_alice -> cli_bob \[[0-9a-f-]{36}\]: fence 1\n$/);

    const convs = await cli(['conversations', '--json'], cliEnv('alice.json'));
    expect(convs.code).toBe(0);
    expect(JSON.parse(convs.stdout.trim())).toMatchObject({ with: 'cli_bob', last: { body: 'fence 1' } });
    const text = await cli(['history', 'cli_alice'], cliEnv('bob.json'));
    expect(text.stdout).toMatch(
      /cli_alice -> cli_bob \[[0-9a-f-]{36}\]: hello from the cli\n\S+ cli_alice -> cli_bob \[[0-9a-f-]{36}\]: fence 1\n$/,
    );

    // A body from stdin, with an idempotent id: sending it twice stores it once.
    for (let i = 0; i < 2; i++) {
      const piped = spawnCli(['send', 'cli_bob', '-', '--id', 'cli-multi-1'], cliEnv('alice.json'));
      piped.child.stdin.end('line one\nline two\n');
      expect((await piped.done).code).toBe(0);
    }
    const after = await cli(['history', 'cli_bob', '--json'], cliEnv('alice.json'));
    const items = after.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(items.filter((m) => m.id === 'cli-multi-1').map((m) => m.body)).toEqual(['line one\nline two']);
  });

  it('send and history leave the inbox alone: the next listen still shows what arrived', async () => {
    expect((await cli(['send', 'cli_bob', 'unseen so far'], cliEnv('alice.json'))).code).toBe(0);
    expect((await cli(['history', 'cli_alice'], cliEnv('bob.json'))).code).toBe(0);
    expect((await cli(['send', 'cli_alice', 'busy now'], cliEnv('bob.json'))).code).toBe(0);
    const listen = spawnCli(['listen', '--json'], cliEnv('bob.json'));
    await waitFor(() => listen.out.stdout.includes('busy now'), 10_000, 'listen to print');
    listen.child.kill('SIGTERM');
    await listen.done;
    const bodies = listen.out.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((f) => f.t === 'msg')
      .map((f) => f.body);
    // (the piped message of the previous test was not listened to yet either)
    expect(bodies).toEqual(['line one\nline two', 'unseen so far', 'busy now']);
  });

  it('exits with distinct codes: no such user, server unreachable, not logged in, token refused, usage', async () => {
    const nobody = await cli(['send', 'cli_nobody', 'hi'], cliEnv('alice.json'));
    expect(nobody.code).toBe(ExitCode.noSuchUser);
    expect(nobody.stderr).toContain('no such user');
    const noHistory = await cli(['history', 'cli_nobody'], cliEnv('alice.json'));
    expect(noHistory.code).toBe(ExitCode.noSuchUser);

    const closedPort = `http://127.0.0.1:${await freePort()}`;
    const login = await cli(['login', '--server', closedPort, '--user', 'cli_alice'], cliEnv('closed.json'));
    expect(login.code).toBe(ExitCode.unreachable);
    expect(login.stderr).toContain('unreachable');
    // A host that accepts connections but never answers.
    const silent = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const silentPort = (silent.address() as AddressInfo).port;
    const hung = await cli(
      ['login', '--server', `http://127.0.0.1:${silentPort}`, '--user', 'cli_alice', '--timeout', '1'],
      cliEnv('closed.json'),
    );
    silent.close();
    expect(hung.code).toBe(ExitCode.unreachable);
    const saved = JSON.parse(readFileSync(join(dir, 'alice.json'), 'utf8'));
    writeFileSync(join(dir, 'closed.json'), JSON.stringify({ ...saved, server: closedPort }));
    const send = await cli(['send', 'cli_bob', 'hi', '--timeout', '1'], cliEnv('closed.json'));
    expect(send.code).toBe(ExitCode.unreachable);
    expect(send.stderr).toContain('unreachable');

    const none = await cli(['send', 'cli_bob', 'hi'], cliEnv('missing.json'));
    expect(none.code).toBe(ExitCode.notLoggedIn);
    writeFileSync(join(dir, 'badtoken.json'), JSON.stringify({ ...saved, token: 'forged' }));
    const refused = await cli(['send', 'cli_bob', 'hi'], cliEnv('badtoken.json'));
    expect(refused.code).toBe(ExitCode.badCredentials);
    expect((await cli(['send', 'cli_bob'], cliEnv('alice.json'))).code).toBe(ExitCode.usage);
    expect((await cli(['frobnicate'], cliEnv('alice.json'))).code).toBe(ExitCode.usage);
    expect((await cli(['send', '--bogus'], cliEnv('alice.json'))).code).toBe(ExitCode.usage);
    const tooLong = await cli(['send', 'cli_bob', 'x'.repeat(4001)], cliEnv('alice.json'));
    expect(tooLong.code).toBe(ExitCode.refused);
  });

  it('password changes the password and signs out the other copies; logout revokes on the server (or keeps it)', async () => {
    const reg = await cli(['register', '--server', server.url, '--user', 'cli_carol'], cliEnv('carol.json'));
    expect(reg.code).toBe(0);
    const copy = readFileSync(join(dir, 'carol.json'), 'utf8');
    writeFileSync(join(dir, 'carol-copy.json'), copy); // another device with the same session
    const wrong = await cli(
      ['password'],
      cliEnv('carol.json', { PIGEON_PASSWORD: 'not it at all', PIGEON_NEW_PASSWORD: 'long enough 1' }),
    );
    expect(wrong.code).toBe(ExitCode.badCredentials);
    const changed = await cli(['password'], cliEnv('carol.json', { PIGEON_NEW_PASSWORD: 'new password 1' }));
    expect(changed).toMatchObject({ code: 0 });
    expect(readFileSync(join(dir, 'carol.json'), 'utf8')).not.toBe(copy);
    expect((await cli(['send', 'cli_bob', 'still here'], cliEnv('carol.json'))).code).toBe(0);
    expect((await cli(['send', 'cli_bob', 'hi'], cliEnv('carol-copy.json'))).code).toBe(
      ExitCode.badCredentials,
    );

    // logout revokes: a copy of the config taken before stops working.
    writeFileSync(join(dir, 'carol-copy.json'), readFileSync(join(dir, 'carol.json')));
    expect(await cli(['logout'], cliEnv('carol.json'))).toMatchObject({ code: 0, stdout: 'Logged out\n' });
    expect(() => readFileSync(join(dir, 'carol.json'))).toThrow();
    expect((await cli(['send', 'cli_bob', 'hi'], cliEnv('carol-copy.json'))).code).toBe(
      ExitCode.badCredentials,
    );

    // A server that cannot be reached keeps the session (and says how to forget it anyway).
    const saved = JSON.parse(readFileSync(join(dir, 'alice.json'), 'utf8'));
    writeFileSync(
      join(dir, 'away.json'),
      JSON.stringify({ ...saved, server: `http://127.0.0.1:${await freePort()}` }),
    );
    const away = await cli(['logout', '--timeout', '2'], cliEnv('away.json'));
    expect(away.code).toBe(ExitCode.unreachable);
    expect(away.stderr).toContain('--local');
    expect(readFileSync(join(dir, 'away.json'), 'utf8')).toContain('token');
    expect((await cli(['logout', '--local'], cliEnv('away.json'))).code).toBe(0);
    expect(() => readFileSync(join(dir, 'away.json'))).toThrow();
  });
});
