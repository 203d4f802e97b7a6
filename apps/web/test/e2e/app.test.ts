// Issue 11's browser tests of the app around the chat (network, drafts, text direction, links,
// notifications, sign-out, storage, the offline shell, Settings): one signed-in pair carried
// through them in order, which is why this file runs just past 300 lines.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  bubbleState,
  bubbles,
  launchBrowser,
  notificationsShown,
  openConversation,
  openUser,
  REACHED,
  recordNotifications,
  registerPair,
  ServerProcess,
  sendText,
  seriousA11yViolations,
  setTabHidden,
  signIn,
  startChat,
  storedValue,
  type UserPage,
  waitForServiceWorker,
  waitOnline,
} from './harness';

/**
 * Issue 11 in a real browser against the real server: nothing typed is lost (sign-out with an
 * unsent message, drafts, a full localStorage), the network's truth at once, the offline app
 * shell, notifications, links, right-to-left text, Settings, and user ids that are also
 * names of Object.prototype members (issue 9.4).
 */
const chromiumPath = inject('chromiumPath');
const PASSWORD = 'correct horse battery';
const run = Date.now().toString(36).slice(-5);
const ANA = `ana${run}`;
const BEN = `ben${run}`;

/**
 * Cuts (or restores) this browser profile's WebSocket while pages and the API still load.
 * Playwright routes the sockets of pages loaded after the route is set, hence the reload.
 */
async function blockSocket(u: UserPage): Promise<{ unblock: () => void }> {
  let blocked = true;
  await u.context.routeWebSocket(/\/ws$/, (ws) => {
    if (blocked) ws.close({ code: 1000, reason: 'test: no socket' });
    else ws.connectToServer();
  });
  await u.page.reload();
  return {
    unblock: () => {
      blocked = false;
    },
  };
}

/** What the app keeps of `user`'s recent messages in IndexedDB for offline use (JSON text). */
function storedRecent(page: Page, user: string): Promise<string> {
  return storedValue(page, `pigeon-web:recent:${user}`);
}

/** Opens a conversation by its URL, as a link or a reload would (no server round trip needed). */
async function openByUrl(page: Page, peer: string): Promise<void> {
  await page.evaluate((p) => {
    location.hash = `#/c/${p}`;
  }, peer);
  await page.locator('#chat-title', { hasText: peer }).waitFor();
}

function rowOf(page: Page, peer: string) {
  return page.locator(`button.conversation[data-peer="${peer}"]`);
}

describe.skipIf(!chromiumPath)('the web app of issue 11, in Chromium against the real server', () => {
  const server = new ServerProcess();
  let browser: Browser;
  let ana: UserPage;
  let ben: UserPage;

  beforeAll(async () => {
    await server.start();
    browser = await launchBrowser(chromiumPath!);
    [ana, ben] = await registerPair(browser, server.url, PASSWORD, ANA, BEN);
    await startChat(ana.page, BEN);
    await sendText(ana.page, 'hello ben');
    await ana.page
      .locator('.bubble[data-state="delivered"]', { hasText: 'hello ben' })
      .waitFor({ timeout: 15_000 });
  });

  afterAll(async () => {
    await browser?.close();
    await server.dispose();
  });

  it('goes to "Waiting for network" within 2 s of the network going away, and sends the moment it is back', async () => {
    await openConversation(ben.page, ANA);
    await waitOnline(ana.page);
    await expect.poll(() => ana.page.locator('.chat-header .online-dot').count()).toBe(1);
    await ana.context.setOffline(true);
    await expect
      .poll(() => ana.page.locator('[data-status]').getAttribute('data-status'), { timeout: 2_000 })
      .toBe('waiting_for_network');
    expect(await ana.page.getByRole('status').filter({ hasText: 'Waiting for network' }).count()).toBe(1);
    // Nobody's presence is known while we are disconnected.
    expect(await ana.page.locator('.online-dot').count()).toBe(0);
    await sendText(ana.page, 'offline one');
    await sendText(ana.page, 'offline two');
    expect(await bubbleState(ana.page, 'offline two')).toBe('sending');
    await ana.context.setOffline(false);
    await expect
      .poll(() => bubbleState(ana.page, 'offline two'), { timeout: 2_000 })
      .toMatch(/sent|delivered/);
    await expect.poll(() => bubbleState(ben.page, 'offline two'), { timeout: 5_000 }).toBe('received');
    const texts = (await bubbles(ben.page)).map((b) => b.text);
    expect(texts.filter((t) => t.startsWith('offline'))).toEqual(['offline one', 'offline two']);
  });

  it('keeps a draft across a reload and marks it in the list', async () => {
    const box = ana.page.locator('.composer textarea');
    await box.fill('a thought I will finish later');
    await ana.page.reload();
    await expect
      .poll(() => ana.page.locator('.composer textarea').inputValue())
      .toBe('a thought I will finish later');
    await ana.page.keyboard.press('Escape');
    await expect.poll(() => ana.page.locator('#chat-title').count()).toBe(0);
    await expect
      .poll(() => rowOf(ana.page, BEN).getByTestId('draft').textContent())
      .toBe('Draft: a thought I will finish later');
    await openConversation(ana.page, BEN);
    await ana.page.locator('.composer textarea').fill('');
  });

  it('lays out Arabic right to left, links http(s)/www/mailto into new tabs, leaves javascript: as text', async () => {
    await openConversation(ben.page, ANA);
    const link = `${server.url}/healthz`;
    await sendText(ana.page, 'مرحبا بالعالم');
    await sendText(ana.page, `status at ${link} — not javascript:alert(1)`);
    await expect.poll(() => bubbleState(ben.page, 'مرحبا بالعالم')).toBe('received');
    const direction = await ben.page
      .locator('.bubble-text', { hasText: 'مرحبا بالعالم' })
      .evaluate((el) => getComputedStyle(el).direction);
    expect(direction).toBe('rtl');
    const anchor = ben.page.locator('.bubble-text a', { hasText: link });
    await expect.poll(() => anchor.count()).toBe(1);
    expect(await anchor.getAttribute('target')).toBe('_blank');
    expect(await anchor.getAttribute('rel')).toBe('noopener noreferrer');
    expect(await ben.page.locator('.bubble-text a[href^="javascript"]').count()).toBe(0);
    const [tab] = await Promise.all([ben.context.waitForEvent('page'), anchor.click()]);
    await tab.waitForLoadState();
    expect(tab.url()).toBe(link);
    await tab.close();
    expect(ben.dialogs).toEqual([]);
  });

  it('notifies for a hidden tab (with the permission granted), not for the open conversation in view', async () => {
    const u = await openUser(browser, server.url);
    await u.context.grantPermissions(['notifications']);
    await recordNotifications(u.context);
    await u.page.reload();
    await signIn(u.page, BEN, PASSWORD);
    await waitOnline(u.page);
    await openConversation(u.page, ANA);
    await sendText(ana.page, 'seen in the open chat');
    await expect.poll(() => bubbleState(u.page, 'seen in the open chat')).toBe('received');
    await setTabHidden(u.page, true);
    await sendText(ana.page, 'while the tab is hidden');
    await expect
      .poll(() => notificationsShown(u.page))
      .toEqual([{ title: ANA, body: 'while the tab is hidden', tag: `pigeon:${ANA}` }]);
    // Clicking it opens that conversation.
    await u.page.evaluate(() => history.replaceState(null, '', '/'));
    await u.page.evaluate(() => {
      const list = (window as unknown as { __notifications: { n: Notification }[] }).__notifications;
      list[0]?.n.onclick?.(new Event('click'));
    });
    await expect.poll(() => u.page.evaluate(() => location.hash)).toBe(`#/c/${ANA}`);
    await u.context.close();
  });

  it('signing out with an unsent message asks, keeps it for that user only, and sends it once at their next sign-in', async () => {
    await openConversation(ben.page, ANA);
    const u = await openUser(browser, server.url);
    const socket = await blockSocket(u);
    await signIn(u.page, ANA, PASSWORD);
    await openByUrl(u.page, BEN);
    await sendText(u.page, 'kept across the sign-out');
    expect(await bubbleState(u.page, 'kept across the sign-out')).toBe('sending');
    await u.page.getByRole('button', { name: 'Sign out' }).click();
    const dialog = u.page.getByRole('dialog', { name: 'Messages not sent yet' });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('1 message has not reached the server yet.');
    expect(await seriousA11yViolations(u.page)).toEqual([]);
    await dialog.getByRole('button', { name: 'Sign out now, send them later' }).click();
    await u.page.getByRole('heading', { name: 'Sign in to Pigeon' }).waitFor();
    // Another user on this browser never sends it.
    socket.unblock();
    await signIn(u.page, BEN, PASSWORD);
    await waitOnline(u.page);
    await openConversation(u.page, ANA);
    expect(await bubbleState(u.page, 'kept across the sign-out')).toBeNull();
    await u.page.getByRole('button', { name: 'Sign out' }).click();
    await u.page.getByRole('heading', { name: 'Sign in to Pigeon' }).waitFor();
    expect(await bubbleState(ben.page, 'kept across the sign-out')).toBeNull();
    // Its author's next sign-in here sends it, once.
    await signIn(u.page, ANA, PASSWORD);
    await expect
      .poll(() => bubbleState(ben.page, 'kept across the sign-out'), { timeout: 15_000 })
      .toBe('received');
    await openConversation(u.page, BEN);
    await expect.poll(() => bubbleState(u.page, 'kept across the sign-out')).toMatch(REACHED);
    await u.context.close();
  });

  it('a full localStorage loses nothing: the outbox lives in IndexedDB', async () => {
    await openConversation(ben.page, ANA);
    const u = await openUser(browser, server.url);
    const socket = await blockSocket(u);
    await signIn(u.page, ANA, PASSWORD);
    const filled = await u.page.evaluate(() => {
      const chunk = 'x'.repeat(256 * 1024);
      let n = 0;
      try {
        for (;;) localStorage.setItem(`filler-${n++}`, chunk);
      } catch (e) {
        return (e as DOMException).name;
      }
    });
    expect(filled).toBe('QuotaExceededError');
    await openByUrl(u.page, BEN);
    await sendText(u.page, 'written with localStorage full');
    await u.page.reload();
    await u.page.locator('#chat-title', { hasText: BEN }).waitFor();
    await expect.poll(() => bubbleState(u.page, 'written with localStorage full')).toBe('sending');
    socket.unblock();
    await u.page.reload();
    await expect
      .poll(() => bubbleState(ben.page, 'written with localStorage full'), { timeout: 15_000 })
      .toBe('received');
    expect(u.errors).toEqual([]);
    await u.context.close();
  });

  it('reloads without network into the app shell, with the conversations and the outbox', async () => {
    await openConversation(ben.page, ANA);
    const u = await openUser(browser, server.url);
    await signIn(u.page, ANA, PASSWORD);
    await waitOnline(u.page);
    await waitForServiceWorker(u.page);
    await openConversation(u.page, BEN);
    await sendText(u.page, 'said before going offline');
    await expect.poll(() => bubbleState(u.page, 'said before going offline')).toMatch(REACHED);
    // What the app keeps of the conversations for offline use is written within saveDelayMs.
    await expect.poll(() => storedRecent(u.page, ANA)).toContain('said before going offline');
    await u.context.setOffline(true);
    await sendText(u.page, 'queued before the offline reload');
    await u.page.reload();
    await expect
      .poll(() => u.page.locator('[data-status]').getAttribute('data-status'))
      .toBe('waiting_for_network');
    await expect.poll(() => rowOf(u.page, BEN).count()).toBe(1);
    await expect.poll(() => bubbleState(u.page, 'queued before the offline reload')).toBe('sending');
    await expect.poll(() => bubbleState(u.page, 'said before going offline')).toMatch(REACHED);
    await u.context.setOffline(false);
    await expect
      .poll(() => bubbleState(ben.page, 'queued before the offline reload'), { timeout: 15_000 })
      .toBe('received');
    await u.context.close();
  });

  it('Settings: theme, notifications and account, with no accessibility violations in either theme', async () => {
    await ana.page.getByRole('button', { name: 'Settings' }).click();
    await ana.page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
    expect(await seriousA11yViolations(ana.page)).toEqual([]);
    await ana.page.getByLabel('Dark').check();
    expect(await ana.page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    expect(await seriousA11yViolations(ana.page)).toEqual([]);
    await ana.page.keyboard.press('Escape');
    await ana.page.getByRole('navigation', { name: 'Conversations' }).waitFor();
    await openConversation(ana.page, BEN);
    expect(await seriousA11yViolations(ana.page)).toEqual([]);
    // The choice survives a reload.
    await ana.page.reload();
    expect(await ana.page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    await ana.page.getByRole('button', { name: 'Settings' }).click();
    await ana.page.getByLabel('Same as the system').check();
    expect(await ana.page.evaluate(() => document.documentElement.dataset.theme)).toBeUndefined();
    await ana.page.getByRole('button', { name: 'Back to chats' }).click();
  });
});
