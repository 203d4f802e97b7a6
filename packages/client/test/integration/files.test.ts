import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpErrorCode, type MsgFrame } from '@pigeon/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/cli/exit-codes.js';
import {
  CLIENT_FEATURES,
  type ClientFeature,
  createClient,
  type HttpTransport,
  memoryAttachments,
  memoryStorage,
  type PigeonClient,
  type UploadProgress,
} from '../../src/index.js';
import { NodeWebSocket, nodeHttpTransport } from '../../src/node/index.js';
import { CLI_MAIN, registerUser, ServerProcess } from '../server-process.js';

// Attachments (issue 12) through the client and the CLI against the real server: photos and
// documents sent and downloaded byte for byte, an upload cut mid-way resumed (not restarted),
// the size limit at its boundary, a type that lies refused, strangers refused, version-1
// clients given the fallback text, a download resumed from a partial file. About 300 lines
// as one subject, end to end, with the client and the CLI sharing one server process.

const MAX = 200_000;
const server = new ServerProcess({ PIGEON_RATE: '1000', PIGEON_FILE_MAX: String(MAX) });
const clients: PigeonClient[] = [];
const children: ChildProcess[] = [];
let dir = '';

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);
const pdf = (size: number) => Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(size - 9, 0x41)]);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function client(
  features: readonly ClientFeature[] = CLIENT_FEATURES,
  transport: HttpTransport = nodeHttpTransport(),
) {
  const c = createClient({
    server: server.url,
    WebSocket: NodeWebSocket,
    storage: memoryStorage(),
    attachments: memoryAttachments(),
    transport,
    features,
    uploadChunkBytes: 64 * 1024,
  });
  clients.push(c);
  return c;
}

async function online(c: PigeonClient, user: string) {
  await c.login(user, 'password123');
  await c.start();
  await c.whenOnline();
  const messages: MsgFrame[] = [];
  c.on('message', (m) => {
    messages.push(m);
  });
  return messages;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pigeon-files-test-'));
  await server.start();
  for (const u of ['fi_alice', 'fi_bob', 'fi_carol']) await registerUser(server.url, u);
});
afterAll(async () => {
  for (const c of clients) c.stop();
  for (const c of children) c.kill('SIGKILL');
  await server.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('attachments through the client', () => {
  it('a photo and a document arrive with their metadata and download byte for byte; strangers get 404', async () => {
    const alice = client();
    await online(alice, 'fi_alice');
    const bob = client();
    const bobGot = await online(bob, 'fi_bob');
    const doc = pdf(150_000);
    const progress: UploadProgress[] = [];
    alice.on('upload', (p) => progress.push(p));
    const item = alice.send('fi_bob', 'the trip', {
      files: [
        { blob: new Blob([PNG]), name: 'dot.png', type: 'image/png' },
        { blob: new Blob([doc]), name: 'plan ü.pdf', type: 'application/pdf' },
      ],
    });
    await alice.flush();
    expect(alice.outbox().find((i) => i.id === item.id)).toMatchObject({
      state: expect.stringMatching(/sent|delivered/),
    });
    expect(progress.filter((p) => p.index === 1).at(-1)).toMatchObject({
      loaded: doc.length,
      total: doc.length,
    });
    await bob.ping();
    const m = bobGot.find((x) => x.id === item.id);
    expect(m?.body).toBe('the trip');
    expect(m?.files).toEqual([
      expect.objectContaining({ name: 'dot.png', type: 'image/png', size: PNG.length, width: 1, height: 1 }),
      expect.objectContaining({ name: 'plan ü.pdf', type: 'application/pdf', size: doc.length }),
    ]);
    const got = await bob.download(m?.files?.[1]?.id ?? '');
    expect(got).toMatchObject({
      from: 0,
      size: doc.length,
      name: 'plan ü.pdf',
      type: 'application/octet-stream',
    });
    expect(sha(Buffer.concat(got.chunks))).toBe(sha(doc));
    const image = await bob.download(m?.files?.[0]?.id ?? '');
    expect(image.type).toBe('image/png');
    // the rest of a file from an offset
    const tail = await bob.download(m?.files?.[1]?.id ?? '', {
      offset: 100_000,
      etag: got.etag ?? undefined,
    });
    expect(tail.from).toBe(100_000);
    expect(Buffer.concat(tail.chunks).equals(doc.subarray(100_000))).toBe(true);

    const carol = client();
    await online(carol, 'fi_carol');
    await expect(carol.download(m?.files?.[1]?.id ?? '')).rejects.toMatchObject({
      status: 404,
      code: 'not_found',
    });
  });

  it('an upload cut mid-way resumes from what the server kept instead of starting over', async () => {
    let cut = true;
    const counts = { POST: 0, HEAD: 0, patched: 0 };
    // A transport that drops the first PATCH once 30 kB of it went out, as a flaky network would.
    const inner = nodeHttpTransport();
    const flaky: HttpTransport = (req) => {
      if (req.method === 'POST' || req.method === 'HEAD') counts[req.method]++;
      if (req.method !== 'PATCH') return inner(req);
      counts.patched += Number(
        req.headers['content-length'] ?? (typeof req.body === 'object' ? req.body.size : 0),
      );
      const controller = new AbortController();
      req.signal?.addEventListener('abort', () => controller.abort());
      return inner({
        ...req,
        signal: controller.signal,
        onUploadProgress: (n) => {
          req.onUploadProgress?.(n);
          if (cut && n >= 30_000) {
            cut = false;
            controller.abort();
          }
        },
      });
    };
    const alice = client(CLIENT_FEATURES, flaky);
    await online(alice, 'fi_alice');
    const doc = pdf(MAX);
    const item = alice.send('fi_bob', '', {
      files: [{ blob: new Blob([doc]), name: 'big.pdf', type: 'application/pdf' }],
    });
    await alice.flush();
    const file = alice.outbox().find((i) => i.id === item.id)?.files?.[0];
    expect(file).toMatchObject({ uploaded: MAX, file: { size: MAX } });
    expect(cut).toBe(false);
    // One upload, asked where it stood, and at most the cut chunk sent twice.
    expect(counts.POST).toBe(1);
    expect(counts.HEAD).toBeGreaterThanOrEqual(1);
    expect(counts.patched).toBeLessThanOrEqual(MAX + 64 * 1024);
    const bob = client();
    await online(bob, 'fi_bob');
    expect(sha(Buffer.concat((await bob.download(file?.file?.id ?? '')).chunks))).toBe(sha(doc));
  });

  it('attached offline and the app reloaded: the message goes out with its file once back online', async () => {
    const storage = memoryStorage();
    const attachments = memoryAttachments();
    const make = () => {
      const c = createClient({
        server: server.url,
        WebSocket: NodeWebSocket,
        storage,
        attachments,
        features: CLIENT_FEATURES,
      });
      clients.push(c);
      return c;
    };
    const before = make();
    await before.login('fi_alice', 'password123');
    before.setNetwork(false);
    await before.start();
    const item = before.send('fi_bob', 'sent from the plane', {
      files: [{ blob: new Blob([PNG]), name: 'window.png', type: 'image/png' }],
    });
    await before.persisted();
    before.stop(); // the page is reloaded

    const after = make();
    expect(await after.restore()).toMatchObject({ user: 'fi_alice' });
    expect(after.outbox()).toEqual([expect.objectContaining({ id: item.id, state: 'pending' })]);
    await after.start();
    await after.flush();
    const bob = client();
    await online(bob, 'fi_bob');
    const seen = (await bob.history('fi_alice')).items.find((m) => m.id === item.id);
    expect(seen).toMatchObject({
      body: 'sent from the plane',
      files: [{ name: 'window.png', width: 1, height: 1 }],
    });
  });

  it('the size limit at its boundary, a type that lies, and what a version-1 client sees', async () => {
    const alice = client();
    await online(alice, 'fi_alice');
    const atMax = alice.send('fi_bob', '', {
      files: [{ blob: new Blob([pdf(MAX)]), name: 'max.pdf', type: 'application/pdf' }],
    });
    const over = alice.send('fi_bob', '', {
      files: [{ blob: new Blob([pdf(MAX + 1)]), name: 'over.pdf', type: 'application/pdf' }],
    });
    const liar = alice.send('fi_bob', 'x', {
      files: [
        { blob: new Blob(['<html><script>alert(1)</script></html>']), name: 'cat.png', type: 'image/png' },
      ],
    });
    await alice.flush();
    const state = (id: string) => alice.outbox().find((i) => i.id === id);
    expect(state(atMax.id)?.state).toMatch(/sent|delivered/);
    expect(state(over.id)).toMatchObject({ state: 'failed', error: HttpErrorCode.fileTooLarge });
    expect(state(liar.id)).toMatchObject({ state: 'failed', error: HttpErrorCode.typeMismatch });

    const v1 = client([]);
    await v1.login('fi_bob', 'password123');
    await v1.start();
    await v1.whenOnline();
    const seen = (await v1.history('fi_alice')).items.find((m) => m.id === atMax.id);
    expect(seen?.body).toBe('📎 max.pdf (200 kB)');
    expect(seen).not.toHaveProperty('files');
  });
});

describe('attachments through the CLI', () => {
  function cli(args: string[], config: string, cwd = dir) {
    const env = { ...process.env, PIGEON_CONFIG: join(dir, config), PIGEON_PASSWORD: 'password123' };
    const child = spawn(process.execPath, [CLI_MAIN, ...args], { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    children.push(child);
    const out = { stdout: '', stderr: '' };
    child.stdout.on('data', (d: Buffer) => {
      out.stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out.stderr += d.toString();
    });
    child.stdin.end();
    return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
      child.once('exit', (code) => resolve({ code, ...out })),
    );
  }

  it('send --file, history shows it, download saves it (resuming a partial one), strangers exit 8', async () => {
    for (const u of ['fi_alice', 'fi_bob', 'fi_carol']) {
      expect((await cli(['login', '--server', server.url, '--user', u], `${u}.json`)).code).toBe(0);
    }
    const doc = pdf(120_000);
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'src', 'report.pdf'), doc);
    const sent = await cli(
      ['send', 'fi_bob', 'the report', '--file', join(dir, 'src', 'report.pdf')],
      'fi_alice.json',
    );
    expect(sent.code).toBe(0);
    const hist = await cli(['history', 'fi_alice'], 'fi_bob.json');
    const fileId = /📎 report\.pdf \(120 kB\) \[file ([^\]]+)\]/.exec(hist.stdout)?.[1];
    expect(fileId).toBeTruthy();

    // half of it is already here from an interrupted run: only the rest is fetched
    const out = join(dir, 'copy.pdf');
    writeFileSync(`${out}.part`, doc.subarray(0, 50_000));
    const got = await cli(['download', fileId ?? '', '-o', out], 'fi_bob.json');
    expect(got).toMatchObject({ code: 0, stdout: `saved ${out} (120 kB, application/octet-stream)\n` });
    expect(readFileSync(out).equals(doc)).toBe(true);
    // without -o: the sender's name, in the current directory; an existing file is kept
    expect((await cli(['download', fileId ?? ''], 'fi_bob.json')).code).toBe(0);
    expect(readFileSync(join(dir, 'report.pdf')).equals(doc)).toBe(true);
    expect((await cli(['download', fileId ?? ''], 'fi_bob.json')).code).toBe(ExitCode.usage);
    expect((await cli(['download', fileId ?? '', '-o', join(dir, 'x')], 'fi_carol.json')).code).toBe(
      ExitCode.noSuchFile,
    );
    const tooBig = join(dir, 'big.bin');
    writeFileSync(tooBig, Buffer.alloc(MAX + 1));
    const refused = await cli(['send', 'fi_bob', '--file', tooBig], 'fi_alice.json');
    expect(refused.code).toBe(ExitCode.refused);
    expect(refused.stderr).toContain(HttpErrorCode.fileTooLarge);
  });
});
