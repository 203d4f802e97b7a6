import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  bubbleState,
  launchBrowser,
  openUser,
  REACHED,
  register,
  ServerProcess,
  sendText,
  startChat,
} from './harness';

/**
 * Issue 9.4: user ids that are also names of Object.prototype members (`constructor`,
 * `__proto__`, ...) are valid, and the app once broke on them (a plain object keyed by id).
 */
const chromiumPath = inject('chromiumPath');
const PASSWORD = 'correct horse battery';
const run = Date.now().toString(36).slice(-5);

describe.skipIf(!chromiumPath)('user ids that are names of Object.prototype members (issue 9.4)', () => {
  const server = new ServerProcess();
  let browser: Browser;

  beforeAll(async () => {
    await server.start();
    browser = await launchBrowser(chromiumPath!);
  });

  afterAll(async () => {
    await browser?.close();
    await server.dispose();
  });

  it('chats with constructor, __proto__, toString and hasOwnProperty; the list survives a reload; #/c/constructor opens', async () => {
    // User ids are lowercase: toString and hasOwnProperty are stored as tostring and hasownproperty.
    const names = ['constructor', '__proto__', 'toString', 'hasOwnProperty'];
    const ids = names.map((n) => n.toLowerCase());
    const me = await openUser(browser, server.url);
    await register(me.page, `friend${run}`, PASSWORD);
    for (const name of names) {
      const u = await openUser(browser, server.url);
      await register(u.page, name, PASSWORD);
      await startChat(u.page, `friend${run}`);
      await sendText(u.page, `hi from ${name}`);
      await expect.poll(() => bubbleState(u.page, `hi from ${name}`), { timeout: 15_000 }).toMatch(REACHED);
      await u.context.close();
    }
    const listed = () =>
      me.page
        .locator('button.conversation')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-peer')).sort());
    await expect.poll(listed).toEqual([...ids].sort());
    await me.page.reload();
    await expect.poll(listed).toEqual([...ids].sort());
    // After sign-in (here a restored session) the focus is on the newest conversation.
    await expect
      .poll(() =>
        me.page.evaluate(() =>
          document.activeElement?.matches(
            'button.conversation:first-child, li:first-child > button.conversation',
          ),
        ),
      )
      .toBe(true);
    await me.page.goto(`${server.url}/#/c/constructor`);
    await expect.poll(() => me.page.locator('#chat-title').textContent()).toBe('constructor');
    await expect.poll(() => bubbleState(me.page, 'hi from constructor')).toBe('received');
    expect(await me.page.getByTestId('signed-in-as').textContent()).toBe(`Signed in as friend${run}`);
    await sendText(me.page, 'hello constructor');
    await expect.poll(() => bubbleState(me.page, 'hello constructor'), { timeout: 15_000 }).toBe('sent');
    expect(me.errors).toEqual([]);
  });
});
