// One conversation of two users carried through these tests in order (each builds on what the
// previous one left, like a person using the app), which is why this file runs past 300 lines.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  bubbleState,
  bubbles,
  fillCredentials,
  launchBrowser,
  openConversation,
  openUser,
  REACHED,
  register,
  ServerProcess,
  sendText,
  seriousA11yViolations,
  setTabHidden,
  signIn,
  startChat,
  type UserPage,
  waitOnline,
} from './harness';
import { drawnJpeg } from './test-files';

const chromiumPath = inject('chromiumPath');

/** The number on a conversation's unread badge, or null without one. */
async function unreadBadge(row: Locator): Promise<string | null> {
  const badge = row.getByTestId('unread').locator('[aria-hidden="true"]');
  return (await badge.count()) > 0 ? badge.textContent() : null;
}
/**
 * The README's screenshots are rewritten only on request (`UPDATE_SCREENSHOTS=1 npm test`),
 * so that running the tests leaves the tracked files alone; otherwise they go to test-results/.
 */
const docsDir = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  process.env.UPDATE_SCREENSHOTS === '1' ? '../../docs' : '../../test-results',
);
const PASSWORD = 'correct horse battery';
/** Unique per run so that a reused database could never make a test pass by accident. */
const run = Date.now().toString(36).slice(-5);
const ALICE = `alice${run}`;
const BOB = `bob${run}`;
const CAROL = `carol${run}`;

describe.skipIf(!chromiumPath)('Pigeon in a real browser against the real server', () => {
  const server = new ServerProcess();
  let browser: Browser;
  let alice: UserPage;
  let bob: UserPage;

  beforeAll(async () => {
    await server.start();
    browser = await launchBrowser(chromiumPath!);
  });

  afterAll(async () => {
    await browser?.close();
    await server.dispose();
  });

  it('sign-in screen explains errors in place and passes an accessibility scan', async () => {
    const u = await openUser(browser, server.url);
    const page = u.page;
    expect(await seriousA11yViolations(page)).toEqual([]);
    // Wrong credentials (the server's bad_credentials).
    await fillCredentials(page, 'nobody-here', 'whatever-password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toBe('Wrong user id or password.');
    // Registering a taken id (the server's user_taken) after taking it in another profile.
    const other = await openUser(browser, server.url);
    await register(other.page, CAROL, PASSWORD);
    await other.context.close();
    await page.getByRole('button', { name: 'New here? Create an account' }).click();
    await fillCredentials(page, CAROL, PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('That user id is taken');
    // A short password (weak_password) is explained next to the password field.
    await fillCredentials(page, `new${run}`, 'short');
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toBe('The password must be 8–256 characters long.');
    expect(await seriousA11yViolations(page)).toEqual([]);
    // The same page in the dark theme (the system's choice) passes too.
    await page.emulateMedia({ colorScheme: 'dark' });
    expect(await seriousA11yViolations(page)).toEqual([]);
    await u.context.close();

    // 简体中文 from the browser's language, and switchable.
    const zh = await openUser(browser, server.url, undefined, 'zh-CN');
    await expect.poll(() => zh.page.getByRole('heading', { level: 1 }).textContent()).toBe('登录 Pigeon');
    expect(await zh.page.evaluate(() => document.documentElement.lang)).toBe('zh-CN');
    await zh.page.getByLabel('语言').selectOption('en');
    await expect
      .poll(() => zh.page.getByRole('heading', { level: 1 }).textContent())
      .toBe('Sign in to Pigeon');
    await zh.page.reload();
    await expect
      .poll(() => zh.page.getByRole('heading', { level: 1 }).textContent())
      .toBe('Sign in to Pigeon');
    await zh.context.close();
  });

  it('two users register in two browsers and chat both ways; ✓✓ once the other side has it', async () => {
    alice = await openUser(browser, server.url);
    bob = await openUser(browser, server.url);
    await register(alice.page, ALICE, PASSWORD);
    await register(bob.page, BOB, PASSWORD);
    await waitOnline(alice.page);
    await waitOnline(bob.page);

    // An unknown recipient is explained clearly.
    await alice.page.getByLabel('New chat: recipient user id').fill(`ghost${run}`);
    await alice.page.getByRole('button', { name: 'Chat', exact: true }).click();
    await expect
      .poll(() => alice.page.getByRole('alert').textContent())
      .toBe(`There is no user “ghost${run}”.`);

    await startChat(alice.page, BOB);
    await sendText(alice.page, 'Hello Bob!');
    // Bob's browser acknowledges it even with the conversation closed: ✓✓ for Alice.
    await expect.poll(() => bubbleState(alice.page, 'Hello Bob!'), { timeout: 15_000 }).toBe('delivered');

    // Bob sees an unread conversation, opens it, and replies.
    const row = bob.page.locator(`button.conversation[data-peer="${ALICE}"]`);
    await expect.poll(() => unreadBadge(row)).toBe('1');
    await openConversation(bob.page, ALICE);
    await expect.poll(() => bubbleState(bob.page, 'Hello Bob!')).toBe('received');
    // Opening a chat puts the cursor in its composer.
    expect(await bob.page.evaluate(() => document.activeElement?.tagName)).toBe('TEXTAREA');
    await expect.poll(() => row.getByTestId('unread').count()).toBe(0);
    await sendText(bob.page, 'Hi Alice, 你好!\nsecond line');
    await expect.poll(() => bubbleState(alice.page, 'Hi Alice, 你好!\nsecond line')).toBe('received');
    await expect.poll(() => bubbleState(bob.page, 'Hi Alice, 你好!\nsecond line')).toMatch(REACHED);

    // Shift+Enter makes a new line; Enter sends; the button is disabled when empty.
    const box = alice.page.locator('.composer textarea');
    await box.fill('line one');
    await box.press('Shift+Enter');
    await box.pressSequentially('line two');
    expect(await box.inputValue()).toBe('line one\nline two');
    await box.press('Enter');
    await expect.poll(() => bubbleState(bob.page, 'line one\nline two')).toBe('received');
    expect(await alice.page.getByRole('button', { name: 'Send' }).isDisabled()).toBe(true);
    expect(await seriousA11yViolations(alice.page)).toEqual([]);
  });

  it('shows markup in a message as text and runs nothing', async () => {
    const evil = '<img src=x onerror=alert(1)>';
    await sendText(alice.page, evil);
    await expect.poll(() => bubbleState(bob.page, evil)).toBe('received');
    for (const u of [alice, bob]) {
      expect(await u.page.locator('.log-scroll img').count()).toBe(0);
      expect(u.dialogs).toEqual([]);
      expect(u.errors).toEqual([]);
    }
  });

  it('shows who is typing, and the unread total in the tab title', async () => {
    // The client sends at most one typing frame per recipient every 3 s (and Alice just sent
    // a message), so keep typing the way a person does until one goes out.
    const box = alice.page.locator('.composer textarea');
    await expect
      .poll(
        async () => {
          await box.pressSequentially('x');
          return bob.page.locator('.chat-subtitle').textContent();
        },
        { timeout: 10_000, interval: 250 },
      )
      .toBe(`${ALICE} is typing…`);
    await alice.page.locator('.composer textarea').fill('');

    await setTabHidden(bob.page, true);
    await sendText(alice.page, 'one while you were away');
    await sendText(alice.page, 'two while you were away');
    await expect.poll(() => bob.page.title()).toBe('(2) Pigeon');
    // The favicon carries the count too.
    expect(await bob.page.locator('link[rel="icon"]').getAttribute('data-badge')).toBe('2');
    await setTabHidden(bob.page, false);
    await expect.poll(() => bob.page.title()).toBe('Pigeon');
    expect(await bob.page.locator('link[rel="icon"]').getAttribute('data-badge')).toBeNull();
    const row = bob.page.locator(`button.conversation[data-peer="${ALICE}"]`);
    expect(await unreadBadge(row)).toBeNull();
  });

  it('a user who was away gets the messages on sign-in', async () => {
    await startChat(alice.page, CAROL);
    await sendText(alice.page, 'Carol, are you there?');
    await sendText(alice.page, 'Ping me when back');
    await expect.poll(() => bubbleState(alice.page, 'Ping me when back')).toBe('sent');
    const carol = await openUser(browser, server.url);
    await signIn(carol.page, CAROL, PASSWORD);
    const row = carol.page.locator(`button.conversation[data-peer="${ALICE}"]`);
    await expect.poll(() => unreadBadge(row), { timeout: 15_000 }).toBe('2');
    await openConversation(carol.page, ALICE);
    await expect
      .poll(() => bubbles(carol.page))
      .toEqual([
        { text: 'Carol, are you there?', state: 'received' },
        { text: 'Ping me when back', state: 'received' },
      ]);
    await expect.poll(() => bubbleState(alice.page, 'Ping me when back')).toMatch(REACHED);
    await carol.context.close();
  });

  it('a reload keeps the conversation and the unsent outbox', async () => {
    const page = alice.page;
    await openConversation(page, BOB);
    // Cut the socket (the page itself still loads): messages wait in the outbox as "sending".
    let blocked = true;
    await alice.context.routeWebSocket(/\/ws$/, (ws) => {
      if (blocked) ws.close({ code: 1000, reason: 'test: no network' });
      else ws.connectToServer();
    });
    await page.reload();
    await expect.poll(() => page.locator('#chat-title').textContent()).toContain(BOB);
    await sendText(page, 'written while offline');
    await expect.poll(() => bubbleState(page, 'written while offline')).toBe('sending');
    await page.reload();
    await expect.poll(() => page.locator('#chat-title').textContent()).toContain(BOB);
    await expect.poll(() => bubbleState(page, 'written while offline')).toBe('sending');
    blocked = false;
    // The next reconnect attempt goes through; the reload also keeps the earlier conversation.
    await page.reload();
    await waitOnline(page);
    await expect.poll(() => bubbleState(page, 'written while offline'), { timeout: 20_000 }).toMatch(REACHED);
    await expect.poll(() => bubbleState(page, 'Hello Bob!')).toMatch(REACHED);
    await expect.poll(() => bubbleState(bob.page, 'written while offline')).toBe('received');
  });

  it('survives a server restart mid-conversation: reconnects, nothing lost or doubled', async () => {
    await server.stop();
    await expect
      .poll(() => alice.page.locator('[data-status="online"]').count(), { timeout: 15_000 })
      .toBe(0);
    await sendText(alice.page, 'sent during the restart 1');
    await sendText(alice.page, 'sent during the restart 2');
    await sendText(bob.page, 'bob during the restart');
    expect(await bubbleState(alice.page, 'sent during the restart 1')).toBe('sending');
    // Without a connection nobody is shown online.
    expect(await alice.page.locator('.online-dot').count()).toBe(0);
    await server.start();
    await waitOnline(alice.page);
    await waitOnline(bob.page);
    await expect.poll(() => alice.page.locator(`button[data-peer="${BOB}"] .online-dot`).count()).toBe(1);
    await sendText(alice.page, 'after the restart');
    for (const text of ['sent during the restart 1', 'sent during the restart 2', 'after the restart']) {
      await expect.poll(() => bubbleState(bob.page, text), { timeout: 20_000 }).toBe('received');
      await expect.poll(() => bubbleState(alice.page, text), { timeout: 20_000 }).toMatch(REACHED);
    }
    await expect
      .poll(() => bubbleState(alice.page, 'bob during the restart'), { timeout: 20_000 })
      .toBe('received');
    // Every message exactly once, in the same order on both sides.
    const a = (await bubbles(alice.page)).map((b) => b.text);
    const b = (await bubbles(bob.page)).map((x) => x.text);
    expect(new Set(a).size).toBe(a.length);
    expect(a).toEqual(b);
  });

  it('has no serious accessibility violations in the chat', async () => {
    expect(await seriousA11yViolations(alice.page)).toEqual([]);
    expect(await seriousA11yViolations(bob.page)).toEqual([]);
  });

  it('works on a 390×844 phone: one pane at a time with a back button', async () => {
    const phone = await openUser(browser, server.url, { width: 390, height: 844 });
    const page = phone.page;
    await signIn(page, BOB, PASSWORD);
    await waitOnline(page);
    const list = page.getByRole('navigation', { name: 'Conversations' });
    await list.waitFor();
    expect(await page.locator('.composer').count()).toBe(0);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await openConversation(page, ALICE);
    expect(await list.isVisible()).toBe(false);
    await expect.poll(() => bubbleState(page, 'after the restart')).toBe('received');
    await sendText(page, 'from my phone');
    await expect.poll(() => bubbleState(alice.page, 'from my phone')).toBe('received');
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(390);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Back to conversations' }).click();
    await list.waitFor();
    expect(await page.locator('.composer').count()).toBe(0);
    // The focus comes back to the chat's row, and the keyboard alone opens it again.
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-peer')))
      .toBe(ALICE);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('chat-title');

    // Signing out forgets this user's chats; the next user sees only their own.
    await page.getByRole('button', { name: 'Back to conversations' }).click();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Pigeon' }).waitFor();
    await signIn(page, CAROL, PASSWORD);
    await expect
      .poll(() =>
        page.locator('button.conversation').evaluateAll((els) => els.map((e) => e.getAttribute('data-peer'))),
      )
      .toEqual([ALICE]);
    expect(phone.errors).toEqual([]);
    await phone.context.close();
  });

  it('takes the README screenshots (desktop 1280×800 light and dark, phone 390×844)', async () => {
    mkdirSync(docsDir, { recursive: true });
    const maya = await openUser(browser, server.url);
    const leo = await openUser(browser, server.url, { width: 390, height: 844 });
    const sam = await openUser(browser, server.url);
    await register(maya.page, 'maya', PASSWORD);
    await register(leo.page, 'leo', PASSWORD);
    await register(sam.page, 'sam', PASSWORD);
    await startChat(sam.page, 'maya');
    await sendText(sam.page, 'The slides for Monday are in the shared folder.');
    await startChat(maya.page, 'leo');
    const lines: [UserPage, string][] = [
      [maya, 'Hi Leo! Are we still on for lunch tomorrow?'],
      [leo, 'Yes! 12:30 at the noodle place on Elm Street?'],
      [maya, 'Perfect. I will book a table for three, Sam is joining too.'],
      [leo, 'Great, see you there.\nI might be five minutes late, the train is slow on Fridays.'],
      [maya, 'No problem, we will order the dumplings first.'],
    ];
    for (const [u, text] of lines) {
      if (u === leo && (await leo.page.locator('#chat-title').count()) === 0)
        await openConversation(leo.page, 'maya');
      await sendText(u.page, text);
      await expect.poll(() => bubbleState(u.page, text), { timeout: 15_000 }).toMatch(REACHED);
    }
    // The chat features in view: a reaction, a reply with its quote, read ticks, the unread line.
    const reactTo = async (page: Page, text: string, emoji: string) => {
      const r = page.locator('.bubble-row').filter({ hasText: text }).first();
      await r.hover();
      await r.getByRole('button', { name: 'Message actions' }).click();
      await page.getByRole('menuitemradio', { name: `React with ${emoji}` }).click();
    };
    await reactTo(maya.page, '12:30 at the noodle place', '❤️');
    await reactTo(leo.page, 'we will order the dumplings first', '😂');
    const r = leo.page.locator('.bubble-row').filter({ hasText: 'I will book a table for three' }).first();
    await r.hover();
    await r.getByRole('button', { name: 'Message actions' }).click();
    await leo.page.getByRole('menuitem', { name: 'Reply' }).click();
    await sendText(leo.page, 'Should I bring the birthday card?');
    await expect.poll(() => bubbleState(maya.page, 'Should I bring the birthday card?')).toBe('received');
    // A photo with a caption, shown inline in its box.
    await leo.page
      .locator('[data-testid="file-picker"]')
      .setInputFiles([
        { name: 'noodle-place.jpg', mimeType: 'image/jpeg', buffer: await drawnJpeg(leo.page, 900, 600) },
      ]);
    await leo.page.locator('.composer textarea').fill('This is the place');
    await leo.page.locator('.composer textarea').press('Enter');
    const photo = maya.page.getByRole('button', { name: 'Open the image noodle-place.jpg' }).locator('img');
    await photo.waitFor({ timeout: 20_000 });
    await expect
      .poll(() => photo.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth > 0))
      .toBe(true);
    // Everything shown was read on both sides: the ticks take the colour, no badge is left.
    await expect
      .poll(() => bubbleState(maya.page, 'No problem, we will order the dumplings first.'))
      .toBe('read');
    await expect
      .poll(() => maya.page.locator('button.conversation[data-peer="leo"] [data-testid="unread"]').count())
      .toBe(0);
    // Both reactions show on both sides.
    for (const u of [maya, leo]) await expect.poll(() => u.page.locator('.reaction').count()).toBe(2);
    await maya.page.locator('.composer textarea').fill('Yes please!');
    await maya.page.locator('.composer textarea').blur();
    await leo.page.locator('.composer textarea').blur();
    // The pointer leaves the log: no "⋯" of a hovered message in the pictures.
    for (const u of [maya, leo]) await u.page.mouse.move(1, 1);
    await maya.page.screenshot({ path: path.join(docsDir, 'screenshot-desktop.png') });
    await leo.page.screenshot({ path: path.join(docsDir, 'screenshot-mobile.png') });
    // The dark theme follows the system when nothing was picked in Settings.
    await maya.page.emulateMedia({ colorScheme: 'dark' });
    expect(await seriousA11yViolations(maya.page)).toEqual([]);
    await maya.page.locator('.composer textarea').blur();
    await maya.page.screenshot({ path: path.join(docsDir, 'screenshot-dark.png') });
    for (const u of [maya, leo, sam]) await u.context.close();
  });
});
