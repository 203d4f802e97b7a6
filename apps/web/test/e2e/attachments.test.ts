// Attachments (issue 12) in a real browser against the real server: a photo and a PDF by the
// button, by drop and by paste; progress while uploading; the recipient's thumbnail and the
// viewer; the photo's EXIF GPS tag gone in what the recipient downloads (and large photos
// scaled to 2560 px) and kept in a photo sent as the original file; images in a box that does
// not move when they load; a GIF and a WebP inline; a sideways photo turned upright by its
// EXIF orientation; downloads; offline attach, reload, sent once the network is back;
// axe with the viewer open. Limits, refusals, cancel and resume: attachments-limits.test.ts.
import type { PigeonClient } from '@pigeon/client';
import { createNodeClient, memoryStorage } from '@pigeon/client/node';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { expectNoErrors, row } from './features';
import { drop, fileRow, paste, pick, shownBytes, type TestFile } from './files';
import {
  launchBrowser,
  REACHED,
  registerPair,
  ServerProcess,
  seriousA11yViolations,
  startChat,
  storedValue,
  type UserPage,
  waitForServiceWorker,
} from './harness';
import { drawnJpeg, drawnWebp, gif200x100, hasGps, pdf, pngOf, withGps, withOrientation } from './test-files';

const chromiumPath = inject('chromiumPath');
const PASSWORD = 'files-password';
const run = Date.now().toString(36).slice(-5);
const ALICE = `pa${run}`;
const BOB = `pb${run}`;

describe.skipIf(!chromiumPath)('attachments in a real browser against the real server', () => {
  const server = new ServerProcess();
  let browser: Browser;
  let alice: UserPage;
  let bob: UserPage;
  let photo: TestFile;
  let bigPhoto: TestFile;
  /** Bob's session over the protocol (his other device), to download what he was sent. */
  let bobClient: PigeonClient;

  beforeAll(async () => {
    await server.start();
    browser = await launchBrowser(chromiumPath!);
    [alice, bob] = await registerPair(browser, server.url, PASSWORD, ALICE, BOB);
    await startChat(alice.page, BOB);
    await startChat(bob.page, ALICE);
    photo = {
      name: 'holiday.jpg',
      mimeType: 'image/jpeg',
      buffer: withGps(await drawnJpeg(alice.page, 640, 480)),
    };
    bigPhoto = {
      name: 'panorama.jpg',
      mimeType: 'image/jpeg',
      buffer: withGps(await drawnJpeg(alice.page, 3200, 1600)),
    };
    expect(hasGps(photo.buffer)).toBe(true);
    bobClient = createNodeClient({ server: server.url, storage: memoryStorage() });
    await bobClient.login(BOB, PASSWORD);
  });

  afterAll(async () => {
    bobClient?.stop();
    await browser?.close();
    await server.dispose();
  });

  it('sends a photo and a PDF by the button, showing progress; the recipient sees the thumbnail', async () => {
    // Hold the uploads' bytes at the server's door, so the progress can be seen, then let them go.
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    await alice.context.route(/\/api\/uploads\/[^/]+$/, async (route) => {
      if (route.request().method() === 'PATCH') await gate;
      await route.continue();
    });
    // And Bob's downloads, so his log can be measured before and after the picture arrives.
    let releaseBob: () => void = () => undefined;
    const bobGate = new Promise<void>((r) => (releaseBob = r));
    await bob.context.route(/\/api\/files\//, async (route) => {
      await bobGate;
      await route.continue();
    });
    await pick(alice.page, [
      photo,
      { name: 'report.pdf', mimeType: 'application/pdf', buffer: pdf('quarterly report') },
    ]);
    const tray = alice.page.getByRole('list', { name: 'Files to send' });
    await expect.poll(() => tray.getByRole('listitem').count()).toBe(2);
    await alice.page.locator('.composer textarea').fill('from the trip');
    await alice.page.locator('.composer textarea').press('Enter');
    await expect.poll(() => tray.count()).toBe(0);
    await expect
      .poll(() => alice.page.getByRole('progressbar', { name: /^Sending holiday\.jpg: \d+%$/ }).count())
      .toBe(1);
    expect(await alice.page.getByRole('button', { name: 'Cancel sending holiday.jpg' }).count()).toBe(1);
    // Each file has its own bar and cancel: the PDF waits its turn at 0% (one upload at a time).
    expect(await alice.page.getByRole('progressbar', { name: 'Sending report.pdf: 0%' }).count()).toBe(1);
    expect(await alice.page.getByRole('button', { name: 'Cancel sending report.pdf' }).count()).toBe(1);
    release();
    await alice.context.unroute(/\/api\/uploads\/[^/]+$/);

    // Bob: the photo inline with the caption, in its box, and the PDF as a card.
    const tile = bob.page.getByRole('button', { name: 'Open the image holiday.jpg' });
    await tile.waitFor({ timeout: 20_000 });
    expect(await tile.evaluate((el) => getComputedStyle(el).aspectRatio)).toBe('320 / 240');
    // The sender's tiny placeholder fills the box until the image is there.
    expect(await tile.evaluate((el) => el.style.backgroundImage)).toContain('data:image/jpeg;base64,');
    // No layout jump: the box and the caption under it stay where they were once the picture loaded.
    const caption = fileRow(bob.page, 'holiday.jpg').locator('.bubble-text');
    await caption.waitFor();
    expect(await tile.locator('img').count()).toBe(0);
    const before = { tile: await tile.boundingBox(), caption: await caption.boundingBox() };
    expect(before.tile).toMatchObject({ width: 320, height: 240 });
    releaseBob();
    await expect
      .poll(() => tile.locator('img').evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth > 0))
      .toBe(true);
    await bob.context.unroute(/\/api\/files\//);
    expect({ tile: await tile.boundingBox(), caption: await caption.boundingBox() }).toEqual(before);
    await expect
      .poll(() => fileRow(bob.page, 'holiday.jpg').locator('.bubble-text').textContent())
      .toBe('from the trip');
    const card = fileRow(bob.page, 'report.pdf').getByTestId('file-card');
    await expect.poll(() => card.textContent()).toContain('PDF document');
    // Alice's copies are stored: ✓✓ once Bob's device has them.
    await expect
      .poll(() => fileRow(alice.page, 'holiday.jpg').locator('.bubble').getAttribute('data-state'))
      .toMatch(REACHED);
    expect(await alice.page.getByTestId('upload').count()).toBe(0);
  });

  it('strips the EXIF GPS tag before the photo leaves the browser', async () => {
    const received = await shownBytes(bob.page, 'holiday.jpg', bobClient);
    expect(received.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(hasGps(received)).toBe(false);
  });

  it('opens the viewer, steps with the arrow keys, closes with Escape, and passes axe in both themes', async () => {
    // A second photo (by drop), so there is a next one; it is large, so it is scaled to 2560 px.
    await drop(alice.page, [bigPhoto]);
    await alice.page.getByRole('list', { name: 'Files to send' }).waitFor();
    await alice.page.getByRole('button', { name: 'Send' }).click();
    await bob.page.getByRole('button', { name: 'Open the image panorama.jpg' }).waitFor({ timeout: 20_000 });
    await bob.page.getByRole('button', { name: 'Open the image holiday.jpg' }).click();
    const viewer = bob.page.getByRole('dialog', { name: /^Image 1 of 2: holiday\.jpg$/ });
    await viewer.waitFor();
    await expect
      .poll(() => viewer.getByTestId('viewer-image').evaluate((el: HTMLImageElement) => el.naturalWidth))
      .toBe(640);
    expect(await seriousA11yViolations(bob.page)).toEqual([]);
    await bob.page.emulateMedia({ colorScheme: 'dark' });
    expect(await seriousA11yViolations(bob.page)).toEqual([]);
    await bob.page.emulateMedia({ colorScheme: 'light' });
    await bob.page.keyboard.press('ArrowRight');
    const next = bob.page.getByRole('dialog', { name: /^Image 2 of 2: panorama\.jpg$/ });
    await next.waitFor();
    await expect
      .poll(() => next.getByTestId('viewer-image').evaluate((el: HTMLImageElement) => el.naturalWidth))
      .toBe(2560);
    expect(hasGps(await shownBytes(bob.page, 'panorama.jpg', bobClient))).toBe(false);
    await bob.page.keyboard.press('ArrowLeft');
    const first = bob.page.getByRole('dialog', { name: /^Image 1 of 2/ });
    await first.waitFor();
    // The ‹ › buttons step too (a mouse or a finger).
    await first.getByRole('button', { name: 'Next image' }).click();
    await next.waitFor();
    await next.getByRole('button', { name: 'Previous image' }).click();
    await first.waitFor();
    // The viewer's Download saves the file under its name.
    const download = bob.page.waitForEvent('download');
    await first.getByRole('button', { name: 'Download holiday.jpg' }).click();
    expect((await download).suggestedFilename()).toBe('holiday.jpg');
    await bob.page.keyboard.press('Escape');
    await expect.poll(() => bob.page.getByRole('dialog').count()).toBe(0);
    // Escape closed the viewer, not the conversation.
    expect(await bob.page.locator('#chat-title').count()).toBe(1);
  });

  it('takes a PDF by drop and an image by paste', async () => {
    await drop(alice.page, [{ name: 'dropped.pdf', mimeType: 'application/pdf', buffer: pdf('dropped') }]);
    await alice.page.getByRole('list', { name: 'Files to send' }).waitFor();
    await alice.page.getByRole('button', { name: 'Send' }).click();
    await fileRow(bob.page, 'dropped.pdf').waitFor({ timeout: 20_000 });
    const shot = { name: 'image.png', mimeType: 'image/png', buffer: await pngOf(alice.page) };
    await paste(alice.page, shot);
    await alice.page.getByRole('list', { name: 'Files to send' }).waitFor();
    await alice.page.locator('.composer textarea').fill('a screenshot');
    await alice.page.locator('.composer textarea').press('Enter');
    await fileRow(bob.page, 'image.png').waitFor({ timeout: 20_000 });
    // The PDF downloads under its name.
    const download = bob.page.waitForEvent('download');
    await fileRow(bob.page, 'dropped.pdf').getByRole('button', { name: 'Download dropped.pdf' }).click();
    expect((await download).suggestedFilename()).toBe('dropped.pdf');
  });

  it('shows a GIF (sent as it is) and a WebP inline in boxes of their aspect ratio', async () => {
    await pick(alice.page, [
      { name: 'dot.gif', mimeType: 'image/gif', buffer: gif200x100() },
      { name: 'banner.webp', mimeType: 'image/webp', buffer: await drawnWebp(alice.page, 400, 100) },
    ]);
    await alice.page.getByRole('button', { name: 'Send' }).click();
    for (const [name, ratio, width] of [
      ['dot.gif', '200 / 100', 200],
      ['banner.webp', '320 / 80', 400],
    ] as const) {
      const tile = bob.page.getByRole('button', { name: `Open the image ${name}` });
      await tile.waitFor({ timeout: 20_000 });
      expect(await tile.evaluate((el) => getComputedStyle(el).aspectRatio)).toBe(ratio);
      const img = tile.locator('img');
      await expect
        .poll(() => img.evaluate((el: HTMLImageElement) => (el.complete ? el.naturalWidth : 0)))
        .toBe(width);
    }
    // The GIF's bytes are untouched (drawing it anew would stop an animation).
    expect((await shownBytes(bob.page, 'dot.gif', bobClient)).equals(gif200x100())).toBe(true);
  });

  it('turns a photo stored sideways (EXIF orientation 6) upright before it leaves the browser', async () => {
    const sideways = withOrientation(await drawnJpeg(alice.page, 640, 480), 6);
    await pick(alice.page, [{ name: 'upright.jpg', mimeType: 'image/jpeg', buffer: sideways }]);
    await alice.page.getByRole('button', { name: 'Send' }).click();
    const tile = bob.page.getByRole('button', { name: 'Open the image upright.jpg' });
    await tile.waitFor({ timeout: 20_000 });
    // The server read 480×640 from the file: the pixels were turned, and the EXIF block is gone.
    expect(await tile.evaluate((el) => getComputedStyle(el).aspectRatio)).toBe('240 / 320');
    const received = await shownBytes(bob.page, 'upright.jpg', bobClient);
    expect(received.includes(Buffer.from('Exif\0\0', 'latin1'))).toBe(false);
    await expect
      .poll(() =>
        tile.locator('img').evaluate((el: HTMLImageElement) => [el.naturalWidth, el.naturalHeight].join('×')),
      )
      .toBe('480×640');
  });

  it('sends a photo as the original file when asked: a card, bytes untouched (GPS kept)', async () => {
    await pick(alice.page, [{ ...photo, name: 'original.jpg' }]);
    await alice.page.getByLabel('Send photos as original files (full size, with their metadata)').check();
    await alice.page.getByRole('button', { name: 'Send' }).click();
    const card = fileRow(bob.page, 'original.jpg').getByTestId('file-card');
    await card.waitFor({ timeout: 20_000 });
    expect(await card.textContent()).toContain('File');
    const received = await shownBytes(bob.page, 'original.jpg', bobClient);
    expect(received.equals(photo.buffer)).toBe(true);
    expect(hasGps(received)).toBe(true);
  });

  it('keeps an attachment written offline across a reload and sends it once the network is back', async () => {
    await waitForServiceWorker(alice.page);
    await alice.context.setOffline(true);
    await expect
      .poll(() => alice.page.locator('[data-status]').getAttribute('data-status'))
      .toBe('waiting_for_network');
    await pick(alice.page, [
      { name: 'offline.pdf', mimeType: 'application/pdf', buffer: pdf('written offline') },
    ]);
    await alice.page.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => alice.page.getByTestId('upload').count()).toBe(1);
    // Kept on this device before the reload: the client saves the outbox that names the file
    // only once the file's bytes are in their store (a reload in between would find neither).
    await expect.poll(() => storedValue(alice.page, `pigeon:u:${ALICE}:outbox`)).toContain('offline.pdf');
    await alice.page.reload();
    await alice.page.locator('#chat-title', { hasText: BOB }).waitFor();
    // The outbox is read back from IndexedDB after the app shell starts (offline, from the service worker).
    await expect.poll(() => alice.page.getByTestId('upload').count(), { timeout: 15_000 }).toBe(1);
    expect(await fileRow(bob.page, 'offline.pdf').count()).toBe(0);
    await alice.context.setOffline(false);
    await fileRow(bob.page, 'offline.pdf').waitFor({ timeout: 30_000 });
    await expect.poll(() => fileRow(alice.page, 'offline.pdf').count()).toBe(1);
    expect(await alice.page.getByTestId('upload').count()).toBe(0);
    expect(await fileRow(bob.page, 'offline.pdf').count()).toBe(1);
    for (const u of [alice, bob]) await expectNoErrors(u);
    // Each message arrived once: the caption of the pasted screenshot has one row.
    expect(await row(bob.page, 'a screenshot').count()).toBe(1);
  });
});
