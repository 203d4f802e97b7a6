// The 15-minute window of edit and delete for everyone (issue 10) at its boundary, in a real
// browser: the server runs in this process on a clock the test moves by hand (its `clock`
// option, the one every server test uses), so "15 minutes later" takes no waiting. At exactly
// 900,000 ms after a message's server time an edit and a deletion are stored and reach the other
// side; at 900,001 both are refused `too_late`, the sender is told so, and nothing changes.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LIMITS } from '@pigeon/protocol';
import { createPigeonServer, type PigeonServer } from '@pigeon/server';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { expectNoErrors, openMenu, row } from './features';
import {
  launchBrowser,
  openConversation,
  openUser,
  register,
  sendText,
  startChat,
  type UserPage,
  waitOnline,
} from './harness';

const chromiumPath = inject('chromiumPath');
const webDist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist');
const PASSWORD = 'window-password';
const run = Date.now().toString(36).slice(-5);
const ALICE = `wa${run}`;
const BOB = `wb${run}`;

describe.skipIf(!chromiumPath)('the edit window at its boundary in a real browser', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pigeon-web-window-'));
  /** The server's time: it moves only when the test says (messages sent now get this ts). */
  const startedAt = Date.now();
  let now = startedAt;
  let server: PigeonServer;
  let browser: Browser;
  let alice: UserPage;
  let bob: UserPage;

  /** The notice the page shows (its string key), or null. */
  const notice = (page: Page) =>
    page.locator('.toast').evaluateAll((els) => els.map((e) => e.getAttribute('data-notice'))[0] ?? null);

  async function edit(text: string, to: string): Promise<void> {
    await (await openMenu(alice.page, text)).getByRole('menuitem', { name: 'Edit' }).click();
    const box = alice.page.locator('.composer textarea');
    await expect.poll(() => box.inputValue()).toBe(text);
    await box.fill(to);
    await box.press('Enter');
  }

  async function deleteForEveryone(text: string): Promise<void> {
    await (await openMenu(alice.page, text)).getByRole('menuitem', { name: 'Delete' }).click();
    await alice.page.getByRole('button', { name: 'Delete for everyone' }).click();
  }

  beforeAll(async () => {
    server = createPigeonServer({
      host: '127.0.0.1',
      port: 0,
      dbPath: path.join(dir, 'pigeon.db'),
      secret: 'w'.repeat(64),
      logLevel: 'silent',
      webRoot: webDist,
      scryptCost: 1024,
      // The clock stands still between the test's moves: no bucket refills by itself, so
      // every limit that counts by it is set out of the way.
      clock: () => now,
      rate: 100_000,
      authRate: 100_000,
      readRate: 100_000,
      frameRate: 100_000,
      helloRateUser: 100_000,
    });
    const { url } = await server.listen();
    browser = await launchBrowser(chromiumPath!);
    alice = await openUser(browser, url);
    bob = await openUser(browser, url);
    await register(alice.page, ALICE, PASSWORD);
    await register(bob.page, BOB, PASSWORD);
    await Promise.all([waitOnline(alice.page), waitOnline(bob.page)]);
    await startChat(alice.page, BOB);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('edits and deletes at 900,000 ms; refuses both at 900,001 as too_late', async () => {
    const texts = [
      'edit me at the limit',
      'edit me too late',
      'delete me too late',
      'delete me at the limit',
    ];
    for (const text of texts) await sendText(alice.page, text);
    await openConversation(bob.page, ALICE);
    for (const text of texts) await expect.poll(() => row(bob.page, text).count()).toBe(1);

    // One millisecond past the window (the browser's own clock still offers Edit and Delete).
    now = startedAt + LIMITS.editWindowMs + 1;
    await edit('edit me too late', 'edited too late');
    await expect.poll(() => notice(alice.page)).toBe('refused_too_late');
    await deleteForEveryone('delete me too late');
    await expect.poll(() => notice(alice.page)).toBe('refused_too_late');

    // Exactly at its end: both are stored, and Bob sees them.
    now = startedAt + LIMITS.editWindowMs;
    await edit('edit me at the limit', 'edited at the limit');
    await deleteForEveryone('delete me at the limit');
    await expect.poll(() => row(bob.page, 'edited at the limit').locator('.edited').count()).toBe(1);
    await expect.poll(() => row(bob.page, 'delete me at the limit').count()).toBe(0);
    expect(await bob.page.locator('.log-scroll').getByText('This message was deleted').count()).toBe(1);
    // Alice's writes go one at a time in order: the refused ones were answered before these,
    // and changed nothing on either side.
    for (const page of [alice.page, bob.page]) {
      expect(await row(page, 'edit me too late').locator('.edited').count()).toBe(0);
      expect(await row(page, 'edited too late').count()).toBe(0);
      expect(await row(page, 'delete me too late').count()).toBe(1);
    }
    for (const u of [alice, bob]) await expectNoErrors(u);
  });
});
