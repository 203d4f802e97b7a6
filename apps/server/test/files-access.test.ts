import type { Feature } from '@pigeon/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAT, chatSession, ok, sendMsg } from './chat-helpers.js';
import { download, SAMPLES, uploadFile } from './files-helpers.js';
import { type Running, register, startServer } from './helpers.js';

// PROTOCOL.md "Files": who may download is decided by entries that exist. A hidden entry
// ("delete for me") is still in the mailbox; a blocked sender's message gave its recipient
// no entry at all. (Retention's removal of an entry: files-messages.test.ts.)
const FILES: Feature[] = [...CHAT, 'files'];

describe('download rights follow mailbox entries', () => {
  let s: Running;
  beforeAll(async () => {
    s = await startServer();
  });
  afterAll(() => s.stop());

  it('a message hidden with "delete for me" still lets its side download the file', async () => {
    const alice = await register(s.url);
    const bob = await register(s.url);
    const pdf = SAMPLES.pdf(900);
    const id = await uploadFile(s.url, alice.token, 'kept.pdf', 'application/pdf', pdf);
    const a = await chatSession(s.wsUrl, alice.token, FILES);
    const b = await chatSession(s.wsUrl, bob.token, FILES);
    const m = await sendMsg(a, bob.id, '', { files: [id] });
    await b.waitFor((f) => f.t === 'msg' && f.id === m.id, 'at b');
    await ok(b, { t: 'hide', from: alice.id, id: m.id });
    const got = await download(s.url, bob.token, id);
    expect([got.status, got.body.equals(pdf)]).toEqual([200, true]);
    await a.close();
    await b.close();
  });

  it("a blocked sender's file never reaches the recipient, who gets the same 404 as a stranger", async () => {
    const alice = await register(s.url);
    const bob = await register(s.url);
    const id = await uploadFile(s.url, alice.token, 'unwanted.png', 'image/png', SAMPLES.png(9, 9, 400));
    const b = await chatSession(s.wsUrl, bob.token, FILES);
    await ok(b, { t: 'block', user: alice.id });
    const a = await chatSession(s.wsUrl, alice.token, FILES);
    // The sender is told `sent` as usual (a block is not revealed) …
    await sendMsg(a, bob.id, 'look', { files: [id] });
    // … but the recipient has no entry of it, so no right to its file; its uploader keeps it.
    const refused = await download(s.url, bob.token, id);
    const none = await download(s.url, bob.token, 'nosuchfile00000000000000');
    expect([refused.status, refused.body.toString()]).toEqual([404, none.body.toString()]);
    expect((await download(s.url, alice.token, id)).status).toBe(200);
    await a.close();
    await b.close();
  });
});
