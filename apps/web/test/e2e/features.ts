import type { PigeonClient } from '@pigeon/client';
import { createNodeClient, memoryStorage } from '@pigeon/client/node';
import type { Locator, Page } from 'playwright-core';
import { expect } from 'vitest';

/** Helpers of the browser tests of the chat features (issue 10). */

/** The row of the open log holding the message with exactly this text. */
export function row(page: Page, text: string): Locator {
  const exact = new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  return page.locator('.bubble-row').filter({ has: page.locator('.bubble-text', { hasText: exact }) });
}

/** Opens the message menu of a message as a mouse user does: hover, then the "⋯" button. */
export async function openMenu(page: Page, text: string): Promise<Locator> {
  const r = row(page, text).first();
  await r.scrollIntoViewIfNeeded();
  await r.hover();
  await r.getByRole('button', { name: 'Message actions' }).click();
  const menu = page.getByRole('menu', { name: 'Message actions' });
  await menu.waitFor();
  return menu;
}

/**
 * The state of my message's tick (sending, sent, delivered, read), or null. Read in one go
 * (evaluateAll never waits), so a row that re-renders meanwhile cannot stall the poll.
 */
export async function tick(page: Page, text: string): Promise<string | null> {
  const states = await row(page, text)
    .locator('.bubble')
    .evaluateAll((els) => els.map((el) => el.getAttribute('data-state')));
  if (states.length > 1) return `duplicated x${states.length}`;
  return states[0] ?? null;
}

/** The number on a conversation's unread badge, or null without one. */
export async function unreadBadge(page: Page, peer: string): Promise<string | null> {
  // evaluateAll never waits: a badge that goes away between two calls cannot stall the poll.
  return page
    .locator(`button.conversation[data-peer="${peer}"] [data-testid="unread"] [aria-hidden="true"]`)
    .evaluateAll((els) => els[0]?.textContent ?? null);
}

/**
 * A user over the protocol with the real client (another device, or someone seeding a long
 * conversation quickly), with the chat features a browser has.
 */
export async function protocolUser(server: string, user: string, password: string, register: boolean) {
  const client: PigeonClient = createNodeClient({
    server,
    storage: memoryStorage(),
    features: ['paging', 'read', 'edit', 'reply', 'react', 'block', 'search'],
  });
  if (register) await client.register(user, password);
  else await client.login(user, password);
  await client.start();
  await client.whenOnline();
  return client;
}

/** Sends each text in order and resolves once the server stored them all. */
export async function sendAll(client: PigeonClient, to: string, texts: readonly string[]): Promise<void> {
  for (const text of texts) client.send(to, text);
  await client.flush();
}

/** Where a message's bubble sits in the log's viewport: above, on screen, below, or not rendered. */
export async function placeInLog(
  page: Page,
  text: string,
): Promise<'above' | 'visible' | 'below' | 'absent'> {
  return page.evaluate((t) => {
    const log = document.querySelector('.log-scroll');
    const el = [...document.querySelectorAll('.bubble-text')].find((b) => b.textContent === t);
    if (!log || !el) return 'absent';
    const v = log.getBoundingClientRect();
    const r = el.getBoundingClientRect();
    if (r.bottom <= v.top) return 'above';
    if (r.top >= v.bottom) return 'below';
    return 'visible';
  }, text);
}

export async function expectNoErrors(u: { errors: string[]; dialogs: string[] }): Promise<void> {
  expect(u.errors).toEqual([]);
  expect(u.dialogs).toEqual([]);
}

/** Scrolls the open log to its end as a reader does, until the end stays on screen (history may load). */
export async function scrollToEnd(page: Page): Promise<void> {
  const log = page.locator('.log-scroll');
  await expect
    .poll(async () => {
      await log.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
      return log.evaluate(
        (el) => el.scrollHeight - el.scrollTop - el.clientHeight < 2 && el.dataset.newer === 'newest',
      );
    })
    .toBe(true);
}
