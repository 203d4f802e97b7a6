// More of the chat features (issue 10) in a real browser against the real server: the read
// receipts switch in Settings (off: the sender's ticks stop at grey ✓✓ and the one who switched
// sees no colour either; on again: colour), "Copy text" from the message menu, search in one
// conversation or all, the menu opened by a long press on a touch screen, and a block hiding
// presence both ways until unblocked.
// Bob's second device is the real client over the protocol: its read state says when a read
// mark is stored, the fence for "no receipt came" (what is appended after it arrives after it).
import type { PigeonClient } from '@pigeon/client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { expectNoErrors, openMenu, protocolUser, row, tick } from './features';
import {
  launchBrowser,
  openConversation,
  registerPair,
  ServerProcess,
  sendText,
  signIn,
  startChat,
  type UserPage,
  waitOnline,
} from './harness';

const chromiumPath = inject('chromiumPath');
const PASSWORD = 'privacy-password';
const run = Date.now().toString(36).slice(-5);
const ALICE = `ra${run}`;
const BOB = `rb${run}`;
const CAROL = `rc${run}`;

describe.skipIf(!chromiumPath)('read receipts switch, copy, long press and block in a real browser', () => {
  const server = new ServerProcess();
  let browser: Browser;
  let alice: UserPage;
  let bob: UserPage;
  /** Alice's and Bob's other devices, over the protocol. */
  let alice2: PigeonClient;
  let bob2: PigeonClient;
  /** The cursor of each message in its reader's mailbox, by "reader:sender:text". */
  const cursors = new Map<string, string>();

  /** Resolves once `who`'s read mark in the conversation with `peer` is stored at the message `text`. */
  async function readStored(who: PigeonClient, peer: string, text: string): Promise<void> {
    await expect
      .poll(() => who.readStates.get()[peer]?.readUpto ?? null, { timeout: 10_000 })
      .toBe(cursors.get(`${who === alice2 ? ALICE : BOB}:${peer}:${text}`));
  }

  async function openSettings(page: Page): Promise<void> {
    await page.locator('.app-header').getByRole('button', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
  }

  beforeAll(async () => {
    await server.start();
    browser = await launchBrowser(chromiumPath!);
    [alice, bob] = await registerPair(browser, server.url, PASSWORD, ALICE, BOB);
    alice2 = await protocolUser(server.url, ALICE, PASSWORD, false);
    bob2 = await protocolUser(server.url, BOB, PASSWORD, false);
    for (const c of [alice2, bob2]) {
      c.on('message', (m) => {
        cursors.set(`${c === alice2 ? ALICE : BOB}:${m.from}:${m.body}`, m.cursor);
      });
    }
    await startChat(alice.page, BOB);
  });

  afterAll(async () => {
    alice2?.stop();
    bob2?.stop();
    await browser?.close();
    await server.dispose();
  });

  it('read receipts off: no colour either way; on again: colour', async () => {
    await sendText(alice.page, 'hello Bob');
    await openConversation(bob.page, ALICE);
    await expect.poll(() => tick(alice.page, 'hello Bob'), { timeout: 10_000 }).toBe('read');
    await openSettings(bob.page);
    const receipts = bob.page.getByLabel('Send read receipts');
    expect(await receipts.isChecked()).toBe(true);
    // The box follows the server's answer (it turns once the setting is stored), so a click, not uncheck().
    await receipts.click();
    await expect.poll(() => receipts.isChecked()).toBe(false);
    // Stored on the server for all of Bob's devices.
    await expect.poll(() => bob2.settings.get().readReceipts).toBe(false);
    await bob.page.getByRole('button', { name: 'Back to chats' }).click();
    await openConversation(bob.page, ALICE);

    await sendText(alice.page, 'do you read me?');
    await expect.poll(() => row(bob.page, 'do you read me?').count()).toBe(1);
    await readStored(bob2, ALICE, 'do you read me?');
    // Anything Bob sends now is in Alice's mailbox after a receipt his mark would have made.
    await sendText(bob.page, 'I do, quietly');
    await expect.poll(() => row(alice.page, 'I do, quietly').count()).toBe(1);
    expect(await tick(alice.page, 'do you read me?')).toBe('delivered');
    // And Bob sees no colour from Alice, who reads him with receipts on.
    await readStored(alice2, BOB, 'I do, quietly');
    await sendText(alice.page, 'fence');
    await expect.poll(() => row(bob.page, 'fence').count()).toBe(1);
    expect(await tick(bob.page, 'I do, quietly')).toBe('delivered');

    await openSettings(bob.page);
    await bob.page.getByLabel('Send read receipts').click();
    await expect.poll(() => bob2.settings.get().readReceipts).toBe(true);
    await bob.page.getByRole('button', { name: 'Back to chats' }).click();
    await openConversation(bob.page, ALICE);
    await sendText(alice.page, 'and now?');
    await expect.poll(() => tick(alice.page, 'and now?'), { timeout: 10_000 }).toBe('read');
  });

  it('copies a message’s text from its menu', async () => {
    await bob.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    const menu = await openMenu(bob.page, 'do you read me?');
    await menu.getByRole('menuitem', { name: 'Copy text' }).click();
    await expect.poll(() => bob.page.evaluate(() => navigator.clipboard.readText())).toBe('do you read me?');
  });

  it('searches only the open conversation, or all of them', async () => {
    const carol = await protocolUser(server.url, CAROL, PASSWORD, true);
    try {
      carol.send(BOB, 'a quokka from Carol');
      await carol.flush();
      await sendText(alice.page, 'a quokka from Alice');
      await expect.poll(() => row(bob.page, 'a quokka from Alice').count()).toBe(1);
      await bob.page.getByRole('button', { name: 'Search messages' }).click();
      const box = bob.page.getByRole('searchbox', { name: 'Search messages' });
      const results = bob.page.getByTestId('search-result');
      const found = () => results.evaluateAll((els) => els.map((e) => e.textContent ?? '').sort());
      await bob.page.getByLabel('Where to search').selectOption({ label: `Only with ${ALICE}` });
      await box.fill('quokka');
      await box.press('Enter');
      await expect.poll(found).toEqual([expect.stringContaining('quokka from Alice')]);
      await bob.page.getByLabel('Where to search').selectOption({ label: 'All conversations' });
      await box.press('Enter');
      await expect
        .poll(found)
        .toEqual([
          expect.stringContaining('quokka from Alice'),
          expect.stringContaining('quokka from Carol'),
        ]);
      await bob.page.getByRole('button', { name: 'Close search' }).click();
    } finally {
      carol.stop();
    }
  });

  it('opens the message menu with a long press on a touch screen', async () => {
    const phone: BrowserContext = await browser.newContext({
      baseURL: server.url,
      viewport: { width: 390, height: 844 },
      hasTouch: true,
      isMobile: true,
    });
    const page = await phone.newPage();
    await page.goto('/');
    await signIn(page, BOB, PASSWORD);
    await waitOnline(page);
    await openConversation(page, ALICE);
    const bubble = row(page, 'and now?').locator('.bubble');
    await bubble.waitFor();
    const box = (await bubble.boundingBox())!;
    const at = { x: Math.round(box.x + box.width / 2), y: Math.round(box.y + box.height / 2) };
    // A finger put down on the bubble and held (real touch input through the DevTools protocol).
    const cdp = await phone.newCDPSession(page);
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [at] });
    const menu = page.getByRole('menu', { name: 'Message actions' });
    await menu.waitFor({ timeout: 5_000 });
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    expect(await menu.getByRole('menuitem', { name: 'Reply' }).count()).toBe(1);
    await page.keyboard.press('Escape');
    await expect.poll(() => menu.count()).toBe(0);
    await phone.close();
  });

  it('a block hides presence both ways until unblocked', async () => {
    const subtitle = (page: Page) => page.locator('.chat-subtitle').textContent();
    await expect.poll(() => subtitle(alice.page)).toBe('online');
    await expect.poll(() => subtitle(bob.page)).toBe('online');
    await bob.page.getByRole('button', { name: 'More options for this chat' }).click();
    await bob.page.getByRole('menuitem', { name: `Block ${ALICE}` }).click();
    await bob.page.getByRole('button', { name: 'Block', exact: true }).click();
    await expect.poll(() => subtitle(alice.page)).not.toBe('online');
    await expect.poll(() => subtitle(bob.page)).not.toBe('online');
    await bob.page.locator('.composer').getByRole('button', { name: 'Unblock' }).click();
    await expect.poll(() => subtitle(alice.page)).toBe('online');
    await expect.poll(() => subtitle(bob.page)).toBe('online');
    // Typing shows again too.
    await alice.page.locator('.composer textarea').pressSequentially('typing again');
    await expect.poll(() => subtitle(bob.page)).toBe(`${ALICE} is typing…`);
    for (const u of [alice, bob]) await expectNoErrors(u);
  });
});
