import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ServerProcess as BaseServerProcess } from '@pigeon/server/testing';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';

const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The real server as a child process on a temp DB, serving this app's dist/. */
export class ServerProcess extends BaseServerProcess {
  /** `env`: extra server settings, e.g. a higher PIGEON_RATE, or HOST to bind another loopback address. */
  constructor(env: Record<string, string> = {}) {
    super({ PIGEON_WEB_ROOT: path.join(webDir, 'dist'), PIGEON_AUTH_RATE: '1000', ...env });
  }

  /** The address it listens on (HOST), e.g. http://127.0.0.2:PORT. */
  override get url(): string {
    return `http://${this.env.HOST ?? '127.0.0.1'}:${this.port}`;
  }
}

export async function launchBrowser(executablePath: string, extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath, args: [...CHROMIUM_ARGS, ...extraArgs] });
}

/**
 * Records every desktop notification the page creates (title, body, tag), and keeps them so
 * a test can click one. Installed through the DevTools protocol before the app's scripts run.
 */
export async function recordNotifications(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const Real = window.Notification;
    const seen: { title: string; body: string; tag: string; n: Notification }[] = [];
    class Recorded extends Real {
      constructor(title: string, options?: NotificationOptions) {
        super(title, options);
        seen.push({ title, body: options?.body ?? '', tag: options?.tag ?? '', n: this });
      }
    }
    Object.defineProperty(window, 'Notification', { value: Recorded, configurable: true, writable: true });
    Object.defineProperty(window, '__notifications', { value: seen });
  });
}

export async function notificationsShown(
  page: Page,
): Promise<{ title: string; body: string; tag: string }[]> {
  return page.evaluate(() =>
    (
      (window as unknown as { __notifications: { title: string; body: string; tag: string }[] })
        .__notifications ?? []
    ).map(({ title, body, tag }) => ({ title, body, tag })),
  );
}

/** Waits until the service worker controls the page (it precached the app shell by then). */
export async function waitForServiceWorker(page: Page): Promise<void> {
  await expect
    .poll(() => page.evaluate(() => Boolean(navigator.serviceWorker?.controller)), { timeout: 20_000 })
    .toBe(true);
}

export interface UserPage {
  context: BrowserContext;
  page: Page;
  /** Browser dialogs (alert/confirm/prompt) the page opened: must stay empty. */
  dialogs: string[];
  /** Uncaught page errors, and anything the Content-Security-Policy refused. */
  errors: string[];
}

/** A fresh browser profile (its own storage) with one page, like a separate device. */
export async function openUser(
  browser: Browser,
  baseURL: string,
  viewport = { width: 1280, height: 800 },
  locale = 'en-US',
): Promise<UserPage> {
  const context = await browser.newContext({ baseURL, viewport, locale });
  const page = await context.newPage();
  const dialogs: string[] = [];
  const errors: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(`${d.type()}: ${d.message()}`);
    void d.dismiss();
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) errors.push(m.text());
  });
  await page.goto('/');
  return { context, page, dialogs, errors };
}

/** Makes the page believe its tab was hidden or shown again (as switching tabs would). */
export async function setTabHidden(page: Page, hidden: boolean): Promise<void> {
  await page.evaluate((h) => {
    Object.defineProperty(document, 'visibilityState', {
      configurable: true,
      get: () => (h ? 'hidden' : 'visible'),
    });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => h });
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
}

export async function register(page: Page, user: string, password: string): Promise<void> {
  await page.getByRole('button', { name: 'New here? Create an account' }).click();
  await fillCredentials(page, user, password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await signedInAs(page, user);
}

/** Waits (with Playwright's own waiting, usable in hooks too) for the header to name `user` (ids are lowercase). */
async function signedInAs(page: Page, user: string): Promise<void> {
  await page
    .getByTestId('signed-in-as')
    .filter({ hasText: new RegExp(`^Signed in as ${user.toLowerCase()}$`) })
    .waitFor();
}

export async function signIn(page: Page, user: string, password: string): Promise<void> {
  await fillCredentials(page, user, password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await signedInAs(page, user);
}

export async function fillCredentials(page: Page, user: string, password: string): Promise<void> {
  await page.getByLabel('User id').fill(user);
  await page.getByLabel('Password').fill(password);
}

export async function waitOnline(page: Page, timeout = 40_000): Promise<void> {
  await page.locator('[data-status="online"]').waitFor({ timeout });
}

/** Two people, each on a fresh browser profile of their own, signed up and online: how most tests begin. */
export async function registerPair(
  browser: Browser,
  baseURL: string,
  password: string,
  first: string,
  second: string,
): Promise<[UserPage, UserPage]> {
  const a = await openUser(browser, baseURL);
  const b = await openUser(browser, baseURL);
  await register(a.page, first, password);
  await register(b.page, second, password);
  await Promise.all([waitOnline(a.page), waitOnline(b.page)]);
  return [a, b];
}

/** Starts (or opens) a chat through the "new chat" field. */
export async function startChat(page: Page, peer: string): Promise<void> {
  await page.getByLabel('New chat: recipient user id').fill(peer);
  await page.getByRole('button', { name: 'Chat', exact: true }).click();
  await page.locator('#chat-title', { hasText: peer.toLowerCase() }).waitFor();
}

export async function openConversation(page: Page, peer: string): Promise<void> {
  await page.locator(`button.conversation[data-peer="${peer}"]`).click();
  await expect.poll(() => page.locator('#chat-title').textContent()).toContain(peer);
}

export async function sendText(page: Page, text: string): Promise<void> {
  const box = page.locator('.composer textarea');
  await box.fill(text);
  await box.press('Enter');
  await page.waitForFunction(
    () => document.querySelector<HTMLTextAreaElement>('.composer textarea')?.value === '',
  );
}

/** Bubbles of the open conversation, by text, with their state. */
export async function bubbles(page: Page): Promise<{ text: string; state: string }[]> {
  return page.locator('.bubble').evaluateAll((els) =>
    els.map((el) => ({
      text: el.querySelector('.bubble-text')?.textContent ?? '',
      state: el.getAttribute('data-state') ?? '',
    })),
  );
}

/**
 * ✓✓: the message reached a device of the recipient, grey (`delivered`), or in colour (`read`)
 * when that device also had it on screen (read receipts): which one depends on where the other
 * person is looking, so tests about delivery accept both.
 */
export const REACHED = /^(delivered|read)$/;

export async function bubbleState(page: Page, text: string): Promise<string | null> {
  const all = await bubbles(page);
  const found = all.filter((b) => b.text === text);
  if (found.length > 1) return `duplicated x${found.length}`;
  return found[0]?.state ?? null;
}

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

/**
 * A value the page keeps in its key-value IndexedDB (`pigeon`, browser-storage.ts) as text:
 * the client's outbox (`pigeon:u:USER:outbox`), the app's recent messages, ... Writes there
 * are asynchronous: a test that reloads to prove something survives waits for it here first.
 */
export function storedValue(page: Page, key: string): Promise<string> {
  return page.evaluate(
    (k) =>
      new Promise<string>((resolve, reject) => {
        const open = indexedDB.open('pigeon');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const read = open.result.transaction('kv').objectStore('kv').get(k);
          read.onsuccess = () => {
            const v: unknown = read.result;
            resolve(typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v));
          };
        };
      }),
    key,
  );
}

/**
 * Runs axe-core in the page. It is evaluated through the DevTools protocol, which the app's
 * Content-Security-Policy does not restrict (a <script> tag would be refused, rightly).
 */
export async function seriousA11yViolations(page: Page): Promise<string[]> {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as { axe: { run: (ctx: unknown) => Promise<{ violations: AxeViolation[] }> } }
    ).axe;
    const result = await axe.run(document);
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes }));
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) => `${v.impact} ${v.id}: ${v.help} at ${JSON.stringify(v.nodes.slice(0, 3).map((n) => n.target))}`,
    );
}
