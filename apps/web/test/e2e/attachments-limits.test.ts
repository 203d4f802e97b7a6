// Attachments (issue 12) at their limits and when things go wrong, in a real browser against
// the real server (its PIGEON_FILE_MAX lowered so the boundary is cheap to reach): a file of
// exactly the limit goes and one byte more is refused `file_too_large`; an empty file
// `empty_file`; a file that is not what its type says `type_mismatch` (each refusal shown on
// its message with Retry / Discard); cancelling an upload deletes it on the server; an upload
// cut by the network going away survives a reload and resumes from the server's offset; a
// file past the user's PIGEON_FILE_QUOTA is refused `quota_exceeded`.
import type { PigeonClient } from '@pigeon/client';
import { createNodeClient, memoryStorage } from '@pigeon/client/node';
import type { Browser, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { expectNoErrors } from './features';
import { fileRow, pick, shownBytes, uploadRow } from './files';
import {
  launchBrowser,
  registerPair,
  ServerProcess,
  sendText,
  startChat,
  type UserPage,
  waitForServiceWorker,
} from './harness';
import { pdf, pdfOfSize } from './test-files';

const chromiumPath = inject('chromiumPath');
const PASSWORD = 'limits-password';
const run = Date.now().toString(36).slice(-5);
const ALICE = `la${run}`;
const BOB = `lb${run}`;
/** The server's largest file in bytes (decimal, as PIGEON_FILE_MAX is). */
const FILE_MAX = 2_500_000;
/**
 * Alice's storage on the server. The tests before the last keep about 4.61 MB of her uploads
 * (the largest file and the resumed one; refused and cancelled ones keep nothing or a few
 * bytes), so the last one's 400 kB passes it.
 */
const FILE_QUOTA = 5_000_000;
/** The client's upload chunk (its DEFAULTS.uploadChunkBytes): a PATCH carries at most this. */
const CHUNK = 1024 * 1024;
const UPLOADS = /\/api\/uploads(\/[^/?]+)?$/;

describe.skipIf(!chromiumPath)('attachments at their limits in a real browser', () => {
  const server = new ServerProcess({
    PIGEON_FILE_MAX: String(FILE_MAX),
    PIGEON_FILE_QUOTA: String(FILE_QUOTA),
  });
  let browser: Browser;
  let alice: UserPage;
  let bob: UserPage;
  let bobClient: PigeonClient;

  beforeAll(async () => {
    await server.start();
    browser = await launchBrowser(chromiumPath!);
    [alice, bob] = await registerPair(browser, server.url, PASSWORD, ALICE, BOB);
    await startChat(alice.page, BOB);
    await startChat(bob.page, ALICE);
    bobClient = createNodeClient({ server: server.url, storage: memoryStorage() });
    await bobClient.login(BOB, PASSWORD);
  });

  afterAll(async () => {
    bobClient?.stop();
    await browser?.close();
    await server.dispose();
  });

  it('sends a file of exactly PIGEON_FILE_MAX bytes and refuses one byte more as file_too_large', async () => {
    const largest = pdfOfSize(FILE_MAX);
    await pick(alice.page, [{ name: 'largest.pdf', mimeType: 'application/pdf', buffer: largest }]);
    await alice.page.getByRole('button', { name: 'Send' }).click();
    await fileRow(bob.page, 'largest.pdf').waitFor({ timeout: 30_000 });
    expect((await shownBytes(bob.page, 'largest.pdf', bobClient)).equals(largest)).toBe(true);

    const over = { name: 'over.pdf', mimeType: 'application/pdf', buffer: pdfOfSize(FILE_MAX + 1) };
    await pick(alice.page, [over]);
    await alice.page.getByRole('button', { name: 'Send' }).click();
    const refused = uploadRow(alice.page, 'over.pdf').locator('.bubble-failed');
    await refused.waitFor({ timeout: 20_000 });
    expect(await refused.getAttribute('data-code')).toBe('file_too_large');
    expect(await refused.getByRole('button', { name: 'Retry' }).count()).toBe(1);
    // Discard takes it away; nothing of it reached Bob.
    await refused.getByRole('button', { name: 'Discard' }).click();
    await expect.poll(() => uploadRow(alice.page, 'over.pdf').count()).toBe(0);
    expect(await fileRow(bob.page, 'over.pdf').count()).toBe(0);
  });

  it('refuses an empty file (empty_file) and a PDF that is not one (type_mismatch), each on its message', async () => {
    await pick(alice.page, [
      { name: 'empty.txt', mimeType: 'text/plain', buffer: Buffer.alloc(0) },
      { name: 'fake.pdf', mimeType: 'application/pdf', buffer: Buffer.from('just some text, not a PDF') },
    ]);
    await alice.page.getByRole('button', { name: 'Send' }).click();
    const empty = uploadRow(alice.page, 'empty.txt').locator('.bubble-failed');
    const fake = uploadRow(alice.page, 'fake.pdf').locator('.bubble-failed');
    await empty.waitFor();
    await fake.waitFor({ timeout: 20_000 });
    expect(await empty.getAttribute('data-code')).toBe('empty_file');
    expect(await fake.getAttribute('data-code')).toBe('type_mismatch');
    // A message after them arrives (the refusals hold nothing back); they never do.
    await sendText(alice.page, 'after the refusals');
    await bob.page.locator('.bubble-text', { hasText: 'after the refusals' }).waitFor();
    expect(await fileRow(bob.page, 'fake.pdf').count()).toBe(0);
    expect(await fileRow(bob.page, 'empty.txt').count()).toBe(0);
  });

  it('cancels an upload on its way: gone from the log, deleted on the server, never delivered', async () => {
    // Hold the upload's bytes at the server's door so the cancel meets it on its way.
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    let patching: () => void = () => undefined;
    const onItsWay = new Promise<void>((r) => (patching = r));
    await alice.context.route(UPLOADS, async (route) => {
      if (route.request().method() === 'PATCH') {
        patching();
        await gate;
      }
      await route.continue().catch(() => undefined); // the page gave up on it meanwhile
    });
    await pick(alice.page, [
      { name: 'cancelled.pdf', mimeType: 'application/pdf', buffer: pdf('cancel me') },
    ]);
    await alice.page.getByRole('button', { name: 'Send' }).click();
    const cancel = alice.page.getByRole('button', { name: 'Cancel sending cancelled.pdf' });
    await cancel.waitFor();
    // Created on the server and its bytes on their way (before that there is nothing to delete there).
    await onItsWay;
    const deleted = alice.page.waitForResponse(
      (r) => r.request().method() === 'DELETE' && UPLOADS.test(new URL(r.url()).pathname),
    );
    await cancel.click();
    expect((await deleted).status()).toBe(204);
    await expect.poll(() => uploadRow(alice.page, 'cancelled.pdf').count()).toBe(0);
    release();
    await alice.context.unroute(UPLOADS);
    await sendText(alice.page, 'after the cancel');
    await bob.page.locator('.bubble-text', { hasText: 'after the cancel' }).waitFor();
    expect(await fileRow(bob.page, 'cancelled.pdf').count()).toBe(0);
    expect(await fileRow(alice.page, 'cancelled.pdf').count()).toBe(0);
  });

  it('resumes an upload cut by the network going away, across a reload, from the server’s offset', async () => {
    await waitForServiceWorker(alice.page);
    const size = 2 * CHUNK + 12_345;
    const big = pdfOfSize(size);
    const creations: string[] = [];
    /** Upload-Offset of every PATCH that reached the server, in order. */
    const offsets: number[] = [];
    let cut = false;
    await alice.context.route(UPLOADS, async (route: Route) => {
      const req = route.request();
      if (req.method() === 'POST') creations.push(req.url());
      if (req.method() === 'PATCH') {
        const offset = Number(req.headers()['upload-offset']);
        // The second chunk never arrives: the network goes away while it is on its way.
        if (offset > 0 && !cut) {
          cut = true;
          await alice.context.setOffline(true);
          await route.abort('internetdisconnected');
          return;
        }
        offsets.push(offset);
      }
      await route.continue();
    });
    await pick(alice.page, [{ name: 'resumed.pdf', mimeType: 'application/pdf', buffer: big }]);
    await alice.page.getByRole('button', { name: 'Send' }).click();
    await expect
      .poll(() => alice.page.locator('[data-status]').getAttribute('data-status'), { timeout: 20_000 })
      .toBe('waiting_for_network');
    expect(offsets).toEqual([0]);
    // The page is reloaded while offline (the service worker's shell): the upload waits, with
    // the first chunk's progress, in the outbox.
    await alice.page.reload();
    await alice.page.locator('#chat-title', { hasText: BOB }).waitFor();
    await uploadRow(alice.page, 'resumed.pdf').waitFor();
    expect(await fileRow(bob.page, 'resumed.pdf').count()).toBe(0);
    await alice.context.setOffline(false);
    await fileRow(bob.page, 'resumed.pdf').waitFor({ timeout: 30_000 });
    await alice.context.unroute(UPLOADS);
    // One upload, created once; after the cut it went on from the first chunk, never from 0.
    expect(creations).toHaveLength(1);
    expect(offsets[0]).toBe(0);
    expect(offsets.slice(1).length).toBeGreaterThan(0);
    expect(offsets.slice(1).every((o) => o >= CHUNK)).toBe(true);
    expect((await shownBytes(bob.page, 'resumed.pdf', bobClient)).equals(big)).toBe(true);
    await expect.poll(() => uploadRow(alice.page, 'resumed.pdf').count()).toBe(0);
    expect(await fileRow(alice.page, 'resumed.pdf').count()).toBe(1);
    for (const u of [alice, bob]) await expectNoErrors(u);
  });

  it('refuses a file past the user’s storage quota as quota_exceeded', async () => {
    await pick(alice.page, [
      { name: 'one-too-many.pdf', mimeType: 'application/pdf', buffer: pdfOfSize(400_000) },
    ]);
    await alice.page.getByRole('button', { name: 'Send' }).click();
    const refused = uploadRow(alice.page, 'one-too-many.pdf').locator('.bubble-failed');
    await refused.waitFor({ timeout: 20_000 });
    expect(await refused.getAttribute('data-code')).toBe('quota_exceeded');
    expect(await refused.textContent()).toContain('your storage for files on the server is full');
  });
});
