import { createNodeClient, memoryStorage } from '@pigeon/client/node';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchBrowser, openConversation, openUser, ServerProcess, signIn, waitOnline } from './harness';

const chromiumPath = inject('chromiumPath');
const COUNT = 600;
const PASSWORD = 'long-log-password';
const label = (i: number) => `message ${String(i).padStart(4, '0')}`;

/** Rows the log has in the DOM, and where a message's bubble sits relative to the log's top. */
async function logState(page: Page, text: string) {
  return page.evaluate((t) => {
    const log = document.querySelector('.log-scroll')!;
    const top = log.getBoundingClientRect().top;
    const bubble = [...document.querySelectorAll('.bubble-text')].find((el) => el.textContent === t);
    return {
      rows: document.querySelectorAll('.log-row').length,
      offset: bubble ? Math.round(bubble.getBoundingClientRect().top - top) : null,
      scrollTop: log.scrollTop,
    };
  }, text);
}

/** Scrolls the log to its top with one turn of the mouse wheel, as a person would. */
async function scrollToTopLikeAReader(page: Page): Promise<void> {
  const box = await page.locator('.log-scroll').boundingBox();
  if (!box) throw new Error('no log on screen');
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  const top = await page.locator('.log-scroll').evaluate((el) => el.scrollTop);
  await page.mouse.wheel(0, -(top + 100));
}

describe.skipIf(!chromiumPath)('a long conversation', () => {
  // A high send rate only so that seeding is quick; nothing here depends on it otherwise.
  const server = new ServerProcess({ PIGEON_RATE: '100000' });
  let browser: Browser;
  const dan = `dan${Date.now().toString(36).slice(-5)}`;
  const erin = `erin${Date.now().toString(36).slice(-5)}`;

  beforeAll(async () => {
    await server.start();
    browser = await launchBrowser(chromiumPath!);
    // Seed over the protocol with the real client: Dan writes, Erin's other device reads and
    // acknowledges everything, so the browser must page through history to see it.
    const d = createNodeClient({ server: server.url, storage: memoryStorage() });
    // Erin's other device also reads them all (a read mark up to the last), so the browser opens
    // at the newest message rather than at the first unread one.
    const e = createNodeClient({ server: server.url, storage: memoryStorage(), features: ['read'] });
    await d.register(dan, PASSWORD);
    await e.register(erin, PASSWORD);
    let received = 0;
    let last = '';
    const allReceived = new Promise<void>((resolve) =>
      e.on('message', (m) => {
        last = m.cursor;
        if (++received === COUNT) resolve();
      }),
    );
    await Promise.all([d.start(), e.start()]);
    await e.whenOnline();
    const ids = new Set<string>();
    // Dan hears a receipt for each message once Erin's acknowledgement of it is stored: the
    // fence that the browser will find them delivered (history to page through, not a backlog).
    const allAcked = new Promise<void>((resolve) =>
      d.on('receipt', ({ id }) => {
        ids.delete(id);
        if (ids.size === 0) resolve();
      }),
    );
    for (let i = 1; i <= COUNT; i++) ids.add(d.send(erin, label(i)).id);
    await d.flush();
    await allReceived;
    await allAcked;
    // Resolves on the server's `ok`, once the mark is stored.
    await e.markRead(dan, last);
    d.stop();
    e.stop();
  });

  afterAll(async () => {
    await browser?.close();
    await server.dispose();
  });

  it('keeps a bounded number of rows in the DOM and keeps the position when older history loads', async () => {
    const u = await openUser(browser, server.url);
    const page = u.page;
    await signIn(page, erin, PASSWORD);
    await waitOnline(page);
    await openConversation(page, dan);
    await expect.poll(async () => (await logState(page, label(COUNT))).offset).not.toBeNull();

    // Scroll up page by page: each time older history loads above and the message that was
    // on top stays in view near the top instead of being pushed a page down.
    let oldestLoaded = COUNT - 49;
    for (let round = 0; round < 3; round++) {
      const anchor = label(oldestLoaded);
      await scrollToTopLikeAReader(page);
      // Settled: the page above is loaded (the log grew upwards) and the anchor is still on top.
      let state = await logState(page, anchor);
      const settled = () =>
        state.scrollTop > 1000 && state.offset !== null && state.offset > -100 && state.offset < 300;
      await expect
        .poll(
          async () => {
            state = await logState(page, anchor);
            return settled();
          },
          { timeout: 10_000, message: `round ${round}, ${anchor}` },
        )
        .toBe(true);
      expect((await logState(page, anchor)).rows).toBeLessThan(70);
      oldestLoaded -= 50;
    }

    // All the way to the beginning: every message exactly once, the DOM still small.
    await expect
      .poll(
        async () => {
          await scrollToTopLikeAReader(page);
          return page.getByText(`This is the beginning of your conversation with ${dan}.`).count();
        },
        { timeout: 20_000 },
      )
      .toBe(1);
    await page.locator('.log-scroll').evaluate((el) => {
      el.scrollTop = 0;
    });
    await expect.poll(async () => (await logState(page, label(1))).offset).not.toBeNull();
    const state = await logState(page, label(1));
    expect(state.rows).toBeLessThan(70);
    // Walk the whole log: every message has exactly one row (a duplicate would take a second
    // row with the same text).
    const rowsByIndex = new Map<string, string>();
    for (let y = 0; y < 500_000; y += 400) {
      const snapshot = await page.locator('.log-scroll').evaluate(async (el, top) => {
        el.scrollTop = top;
        // Two frames: the scroll event, then the rows the virtualizer rendered for it.
        for (let i = 0; i < 2; i++) await new Promise((r) => requestAnimationFrame(r));
        const rows = [...el.querySelectorAll('.log-row')].map((r) => [
          r.getAttribute('data-index') ?? '',
          r.querySelector('.bubble-text')?.textContent ?? null,
        ]);
        return { rows, end: el.scrollTop + el.clientHeight >= el.scrollHeight - 2 };
      }, y);
      for (const [index, text] of snapshot.rows) if (text !== null) rowsByIndex.set(index!, text!);
      if (snapshot.end) break;
    }
    const texts = [...rowsByIndex.values()];
    expect(texts.length).toBe(COUNT);
    expect(new Set(texts).size).toBe(COUNT);

    // Reading old messages when a new one arrives: the view stays, a button offers the way down.
    await scrollToTopLikeAReader(page);
    const d = createNodeClient({ server: server.url, storage: memoryStorage() });
    await d.login(dan, PASSWORD);
    await d.start();
    d.send(erin, 'a fresh one');
    await d.flush();
    d.stop();
    const jump = page.getByRole('button', { name: 'Jump to latest messages' });
    await jump.waitFor({ timeout: 10_000 });
    expect((await logState(page, 'a fresh one')).offset).toBeNull();
    await jump.click();
    await expect.poll(async () => (await logState(page, 'a fresh one')).offset).not.toBeNull();
    await expect.poll(() => jump.count()).toBe(0);
    await u.context.close();
  });
});
