// Over ~300 lines on purpose: one subject, files on messages (PROTOCOL.md "Files: Messages"),
// from the send through downloads to how long the files live; each case is a scenario.
import { type Feature, fallbackBody, formatFileSize } from '@pigeon/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAT, chatSession, ok, request, sendMsg } from './chat-helpers.js';
import { bearer, blobCounts, createUpload, download, patch, SAMPLES, uploadFile } from './files-helpers.js';
import {
  Client,
  FakeClock,
  fence,
  http,
  mid,
  type Running,
  register,
  session,
  startServer,
  uid,
} from './helpers.js';

const FILES: Feature[] = [...CHAT, 'files'];

/** Sends and waits for the answer to it (`sent` or an `error` with its id). */
async function sendFrame(c: Client, frame: Record<string, unknown>) {
  const id = mid();
  c.send({ t: 'send', id, ...frame });
  return c.waitFor((f) => (f.t === 'sent' || f.t === 'error') && f.id === id, `answer to ${id}`);
}

describe('messages with files (PROTOCOL.md "Files: Messages")', () => {
  let s: Running;
  beforeAll(async () => {
    s = await startServer({ legacy: true });
  });
  afterAll(() => s.stop());

  it('offers `files`; a message carries its files to `files` connections and text lines to the others', async () => {
    const alice = await register(s.url);
    const bob = await register(s.url);
    const png = SAMPLES.png(1200, 800, 4000);
    const pdf = SAMPLES.pdf(1500);
    const thumb = `data:image/webp;base64,${'A'.repeat(100)}`;
    const photo = await uploadFile(s.url, alice.token, 'beach.png', 'image/png', png, { thumb });
    const report = await uploadFile(s.url, alice.token, 'report.pdf', 'application/pdf', pdf);
    const a = await chatSession(s.wsUrl, alice.token, FILES);
    expect(a.welcome.features).toEqual(['read', 'edit', 'reply', 'react', 'block', 'search', 'files']);
    const b = await chatSession(s.wsUrl, bob.token, FILES);
    const bV1 = await session(s.wsUrl, bob.token);
    const bChat = await chatSession(s.wsUrl, bob.token, CHAT);
    const echo = await sendMsg(a, bob.id, '', { files: [photo, report] });
    const files = [
      { id: photo, name: 'beach.png', type: 'image/png', size: png.length, width: 1200, height: 800, thumb },
      { id: report, name: 'report.pdf', type: 'application/pdf', size: pdf.length },
    ];
    expect(echo).toMatchObject({ body: '', files });
    const got = await b.waitFor((f) => f.t === 'msg' && f.id === echo.id, 'msg at b');
    expect(got).toMatchObject({ body: '', files });
    const text = `📎 beach.png (${formatFileSize(png.length)})\n📎 report.pdf (${formatFileSize(pdf.length)})`;
    for (const other of [bV1, bChat]) {
      const m = await other.waitFor((f) => f.t === 'msg' && f.id === echo.id, 'msg without files');
      expect(m.body).toBe(text);
      expect(m.files).toBeUndefined();
    }
    // History says the same, per connection.
    const hist = await request(b, { t: 'history', with: alice.id });
    expect((hist.items as Record<string, unknown>[]).at(-1)).toMatchObject({ files });
    const histV1 = await request(bV1, { t: 'history', with: alice.id });
    expect((histV1.items as Record<string, unknown>[]).at(-1)).toMatchObject({ body: text });
    // A caption goes first, then the lines.
    const captioned = await sendMsg(a, bob.id, 'from the trip', { files: [photo] });
    const m = await bV1.waitFor((f) => f.t === 'msg' && f.id === captioned.id, 'captioned');
    expect(m.body).toBe(fallbackBody('from the trip', [{ name: 'beach.png', size: png.length }]));
    for (const c of [a, b, bV1, bChat]) await c.close();
  });

  it('/legacy sees the text lines', async () => {
    const alice = await register(s.url);
    const legacyUser = uid('lg');
    const l = await Client.open(`${s.wsUrl}/legacy?user=${legacyUser}`);
    const doc = await uploadFile(s.url, alice.token, 'notes.txt', 'text/plain', Buffer.from('hello'));
    const a = await chatSession(s.wsUrl, alice.token, FILES);
    await sendMsg(a, legacyUser, 'see attached', { files: [doc] });
    await l.until(() => l.raw.some((r) => r.includes('see attached\n📎 notes.txt (5 B)')), 'legacy text');
    await a.close();
    await l.close();
  });

  it('no_such_file for what is not a complete, unexpired upload of the sender, in the spec order, nothing stored', async () => {
    const clock = new FakeClock();
    const r = await startServer({ clock: clock.now, rate: 1 });
    try {
      const alice = await register(r.url);
      const bob = await register(r.url);
      const mine = await uploadFile(r.url, alice.token, 'a.txt', 'text/plain', Buffer.from('abc'));
      const theirs = await uploadFile(r.url, bob.token, 'b.txt', 'text/plain', Buffer.from('abc'));
      const incomplete = String(
        (await createUpload(r.url, alice.token, { name: 'c.txt', type: 'text/plain', size: 10 })).json!.id,
      );
      await patch(r.url, alice.token, incomplete, 0, Buffer.from('12345'));
      const a = await chatSession(r.wsUrl, alice.token, FILES);
      for (const files of [[theirs], [incomplete], ['nosuchupload'], [mine, theirs]]) {
        const answer = await sendFrame(a, { to: bob.id, body: '', files });
        expect([answer.t, answer.code]).toEqual(['error', 'no_such_file']);
      }
      // no_such_user comes first.
      const noUser = await sendFrame(a, { to: 'nobody', body: '', files: ['nosuchupload'] });
      expect(noUser.code).toBe('no_such_user');
      // Before the rate: with the bucket empty a bad file is still no_such_file.
      // PIGEON_RATE 1: a bucket of 2.
      expect((await sendFrame(a, { to: bob.id, body: '', files: [mine] })).t).toBe('sent');
      expect((await sendFrame(a, { to: bob.id, body: 'x' })).t).toBe('sent');
      expect((await sendFrame(a, { to: bob.id, body: 'y' })).code).toBe('rate_limited');
      expect((await sendFrame(a, { to: bob.id, body: '', files: [theirs] })).code).toBe('no_such_file');
      // Expired: the last ms before expiresAt is fine, expiresAt itself is not.
      const late = await uploadFile(r.url, alice.token, 'late.txt', 'text/plain', Buffer.from('zz'));
      clock.advance(86_400_000 - 1);
      expect((await sendFrame(a, { to: bob.id, body: '', files: [late] })).t).toBe('sent');
      clock.advance(1);
      expect((await sendFrame(a, { to: bob.id, body: '', files: [late] })).code).toBe('no_such_file');
      const hist = await request(a, { t: 'history', with: bob.id });
      expect((hist.items as unknown[]).length).toBe(3);
      // Without the `files` feature the field is unknown: a caption-less send is bad_frame.
      const v1 = await session(r.wsUrl, alice.token);
      const bad = await sendFrame(v1, { to: bob.id, body: '', files: [mine] });
      expect(bad.code).toBe('bad_frame');
      await a.close();
      await v1.close();
    } finally {
      await r.stop();
    }
  });

  it('downloads: the uploader and both sides of a message; a third user gets 404; a referenced upload cannot be deleted', async () => {
    const alice = await register(s.url);
    const bob = await register(s.url);
    const carol = await register(s.url);
    const pdf = SAMPLES.pdf(4000);
    const id = await uploadFile(s.url, alice.token, 'contract.pdf', 'application/pdf', pdf);
    // Before it is sent, only its uploader may read it.
    expect((await download(s.url, bob.token, id)).status).toBe(404);
    const a = await chatSession(s.wsUrl, alice.token, FILES);
    await sendMsg(a, bob.id, 'sign please', { files: [id] });
    for (const who of [alice, bob]) {
      const got = await download(s.url, who.token, id);
      expect([got.status, got.body.equals(pdf)]).toEqual([200, true]);
    }
    expect((await download(s.url, carol.token, id)).status).toBe(404);
    const del = await http(s.url, 'DELETE', `/api/uploads/${id}`, undefined, bearer(alice.token));
    expect([del.status, del.json?.error]).toEqual([409, 'file_in_use']);
    await a.close();
  });

  it('LIMITS.filesPerMessage: 10 files in one message pass, 11 or one listed twice are bad_frame', async () => {
    const alice = await register(s.url);
    const bob = await register(s.url);
    const ids: string[] = [];
    for (let i = 0; i <= 10; i++) {
      ids.push(await uploadFile(s.url, alice.token, `p${i}.pdf`, 'application/pdf', SAMPLES.pdf(50)));
    }
    const a = await chatSession(s.wsUrl, alice.token, FILES);
    const ten = await sendMsg(a, bob.id, '', { files: ids.slice(0, 10) });
    expect((ten.files as { id: string }[]).map((f) => f.id)).toEqual(ids.slice(0, 10));
    expect((await sendFrame(a, { to: bob.id, body: '', files: ids })).code).toBe('bad_frame');
    expect((await sendFrame(a, { to: bob.id, body: '', files: [ids[0], ids[0]] })).code).toBe('bad_frame');
    await a.close();
  });

  it('a reply quotes a photo sent without a caption as its text line', async () => {
    const alice = await register(s.url);
    const bob = await register(s.url);
    const png = SAMPLES.png(10, 10, 100);
    const id = await uploadFile(s.url, alice.token, 'cat.png', 'image/png', png);
    const a = await chatSession(s.wsUrl, alice.token, FILES);
    const b = await chatSession(s.wsUrl, bob.token, FILES);
    const original = await sendMsg(a, bob.id, '', { files: [id] });
    await b.waitFor((f) => f.t === 'msg' && f.id === original.id, 'original at b');
    const reply = await sendMsg(b, alice.id, 'cute', { replyTo: { from: alice.id, id: original.id } });
    const line = `📎 cat.png (${formatFileSize(png.length)})`;
    expect((reply.replyTo as Record<string, unknown>).body).toBe(line);
    const hist = await request(a, { t: 'history', with: bob.id });
    const last = (hist.items as Record<string, unknown>[]).at(-1)!;
    expect((last.replyTo as Record<string, unknown>).body).toBe(line);
    await a.close();
    await b.close();
  });
});

describe('how long files live', () => {
  it('deleting a message for everyone drops its files; another message keeps them; the last deletion removes the upload', async () => {
    const clock = new FakeClock();
    // A TTL (60 s) shorter than the deletion window (15 min), to pass it between deletions.
    const s = await startServer({ clock: clock.now, uploadTtlSec: 60 });
    try {
      const alice = await register(s.url);
      const bob = await register(s.url);
      const carol = await register(s.url);
      const id = await uploadFile(s.url, alice.token, 'oops.png', 'image/png', SAMPLES.png(5, 5, 500));
      const a = await chatSession(s.wsUrl, alice.token, FILES);
      const b = await chatSession(s.wsUrl, bob.token, FILES);
      // One upload, two messages (the same photo sent to two people).
      const toBob = await sendMsg(a, bob.id, '', { files: [id] });
      const toCarol = await sendMsg(a, carol.id, 'for you too', { files: [id] });
      await b.waitFor((f) => f.t === 'msg' && f.id === toBob.id, 'at b');
      await ok(a, { t: 'delete', from: alice.id, id: toBob.id });
      // Gone from the message at once: bob no longer reaches it through it.
      expect((await download(s.url, bob.token, id)).status).toBe(404);
      const hist = await request(b, { t: 'history', with: alice.id });
      const last = (hist.items as Record<string, unknown>[]).at(-1)!;
      expect([last.deleted, last.files]).toEqual([true, undefined]);
      // Carol's message still refers to it: kept past its TTL.
      clock.advance(60_000);
      await s.server.sweepRetention();
      expect((await download(s.url, carol.token, id)).status).toBe(200);
      expect((await download(s.url, alice.token, id)).status).toBe(200);
      // Its last reference deleted: 404 for everyone at once, the next sweep removes the bytes.
      await ok(a, { t: 'delete', from: alice.id, id: toCarol.id });
      expect((await download(s.url, carol.token, id)).status).toBe(404);
      expect((await download(s.url, alice.token, id)).status).toBe(404);
      expect(await blobCounts(s.server.config)).toEqual({ partials: 0, contents: 1 });
      await s.server.sweepRetention();
      expect(await blobCounts(s.server.config)).toEqual({ partials: 0, contents: 0 });
      await a.close();
      await b.close();
    } finally {
      await s.stop();
    }
  });

  it('deleted for everyone within its TTL: its uploads expire at once, 404 for both sides, the next sweep removes the bytes; content another upload names is kept', async () => {
    const clock = new FakeClock();
    const s = await startServer({ clock: clock.now, uploadTtlSec: 60 });
    try {
      const alice = await register(s.url);
      const bob = await register(s.url);
      const pdfBytes = SAMPLES.pdf(300);
      const png = SAMPLES.png(6, 6, 700);
      const pdf = await uploadFile(s.url, alice.token, 'a.pdf', 'application/pdf', pdfBytes);
      const photo = await uploadFile(s.url, alice.token, 'p.png', 'image/png', png);
      // Bob sends the same bytes in his own message: one content, named by two uploads.
      const twin = await uploadFile(s.url, bob.token, 'twin.png', 'image/png', png);
      const a = await chatSession(s.wsUrl, alice.token, FILES);
      const b = await chatSession(s.wsUrl, bob.token, FILES);
      const m = await sendMsg(a, bob.id, '', { files: [pdf, photo] });
      await sendMsg(b, alice.id, 'same photo', { files: [twin] });
      expect(await blobCounts(s.server.config)).toEqual({ partials: 0, contents: 2 });
      expect((await download(s.url, bob.token, pdf)).status).toBe(200);
      await ok(a, { t: 'delete', from: alice.id, id: m.id });
      // At once, before any sweep and with 60 s of TTL left: the uploader gets the same 404
      // as the recipient, and the upload cannot be sent again (its expiry is now).
      for (const id of [pdf, photo]) {
        for (const user of [alice, bob]) expect((await download(s.url, user.token, id)).status).toBe(404);
      }
      const again = await sendFrame(a, { to: bob.id, body: '', files: [pdf] });
      expect([again.t, again.code]).toEqual(['error', 'no_such_file']);
      await s.server.sweepRetention();
      // The PDF's bytes are gone; the photo's stay for bob's message.
      expect(await blobCounts(s.server.config)).toEqual({ partials: 0, contents: 1 });
      for (const user of [alice, bob]) {
        const got = await download(s.url, user.token, twin);
        expect([got.status, got.body.equals(png)]).toEqual([200, true]);
      }
      const metrics = await http(s.url, 'GET', '/metrics');
      expect(metrics.text).toMatch(new RegExp(`pigeon_file_bytes_stored ${png.length}\\n`));
      await fence(a);
      await a.close();
      await b.close();
    } finally {
      await s.stop();
    }
  });

  it("an unsent upload is its uploader's until the last ms before expiresAt; at expiresAt it is 404 before any sweep", async () => {
    const clock = new FakeClock();
    const s = await startServer({ clock: clock.now, uploadTtlSec: 60 });
    try {
      const alice = await register(s.url);
      const id = await uploadFile(s.url, alice.token, 'a.pdf', 'application/pdf', SAMPLES.pdf(300));
      clock.advance(60_000 - 1);
      await s.server.sweepRetention();
      expect((await download(s.url, alice.token, id)).status).toBe(200);
      clock.advance(1);
      expect((await download(s.url, alice.token, id)).status).toBe(404);
      expect(await blobCounts(s.server.config)).toEqual({ partials: 0, contents: 1 });
      await s.server.sweepRetention();
      expect(await blobCounts(s.server.config)).toEqual({ partials: 0, contents: 0 });
    } finally {
      await s.stop();
    }
  });

  it('a sent file is kept past its TTL while any entry refers to it; retention removes it with the last one', async () => {
    const clock = new FakeClock();
    // Retention keeps the newest entry of each mailbox and nothing for its age.
    const s = await startServer({ clock: clock.now, mailboxMax: 1, retentionDays: 0 });
    try {
      const alice = await register(s.url);
      const bob = await register(s.url);
      const carol = await register(s.url);
      const png = SAMPLES.png(7, 7, 30_000);
      const id = await uploadFile(s.url, alice.token, 'kept.png', 'image/png', png);
      // Bob uploads the same bytes and never sends them: one content, two uploads.
      const twin = await uploadFile(s.url, bob.token, 'twin.png', 'image/png', png);
      const a = await chatSession(s.wsUrl, alice.token, FILES);
      await sendMsg(a, bob.id, '', { files: [id] });
      clock.advance(2 * 86_400_000);
      await s.server.sweepRetention();
      // Past its TTL, but alice's and bob's newest entries refer to it; bob's unsent twin
      // expired and went without taking the content along.
      expect((await download(s.url, bob.token, twin)).status).toBe(404);
      const atBob = await download(s.url, bob.token, id);
      expect([atBob.status, atBob.body.equals(png)]).toEqual([200, true]);
      expect(await blobCounts(s.server.config)).toEqual({ partials: 0, contents: 1 });
      // A newer entry in bob's mailbox: his entry of the message goes, alice's keeps the file.
      const c = await chatSession(s.wsUrl, carol.token, FILES);
      await sendMsg(c, bob.id, 'hi bob');
      await s.server.sweepRetention();
      expect((await download(s.url, bob.token, id)).status).toBe(404);
      expect((await download(s.url, alice.token, id)).status).toBe(200);
      expect(await blobCounts(s.server.config)).toEqual({ partials: 0, contents: 1 });
      // A newer entry in alice's mailbox: the last entry goes, and the file with it.
      await sendMsg(a, carol.id, 'later');
      await s.server.sweepRetention();
      expect((await download(s.url, alice.token, id)).status).toBe(404);
      const metrics = await http(s.url, 'GET', '/metrics');
      expect(metrics.text).toMatch(/pigeon_file_bytes_stored 0\n/);
      expect(await blobCounts(s.server.config)).toEqual({ partials: 0, contents: 0 });
      await fence(a);
      await a.close();
      await c.close();
    } finally {
      await s.stop();
    }
  });
});
