import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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
  waitForServiceWorker,
  waitOnline,
} from './harness';

/**
 * The service worker (Workbox through vite-plugin-pwa) never caches API or WebSocket traffic,
 * and a new version takes over the open tab. The server serves a copy of dist/ here, so the
 * test can publish a "new version" of sw.js while the page is open.
 */
const chromiumPath = inject('chromiumPath');
const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist');
const PASSWORD = 'correct horse battery';
const run = Date.now().toString(36).slice(-5);

describe.skipIf(!chromiumPath)('the service worker', () => {
  const webRoot = mkdtempSync(path.join(tmpdir(), 'pigeon-web-root-'));
  let server: ServerProcess;
  let browser: Browser;

  beforeAll(async () => {
    cpSync(dist, webRoot, { recursive: true });
    server = new ServerProcess({ PIGEON_WEB_ROOT: webRoot });
    await server.start();
    browser = await launchBrowser(chromiumPath!);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.dispose();
    rmSync(webRoot, { recursive: true, force: true });
  });

  it('caches the app shell only: no API answer, no socket, nothing but the build', async () => {
    const res = await fetch(`${server.url}/sw.js`);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const a = await openUser(browser, server.url);
    const b = await openUser(browser, server.url);
    await register(a.page, `sw${run}`, PASSWORD);
    await register(b.page, `swpeer${run}`, PASSWORD);
    await waitForServiceWorker(a.page);
    await waitOnline(a.page);
    await startChat(a.page, `swpeer${run}`);
    await sendText(a.page, 'through the network, not a cache');
    await expect.poll(() => bubbleState(a.page, 'through the network, not a cache')).toMatch(REACHED);
    const cached = await a.page.evaluate(async () => {
      const urls: string[] = [];
      for (const name of await caches.keys()) {
        for (const req of await (await caches.open(name)).keys()) urls.push(new URL(req.url).pathname);
      }
      return urls;
    });
    expect(cached).toContain('/index.html');
    expect(cached.filter((u) => /^\/(api|ws|legacy|healthz|metrics)/.test(u))).toEqual([]);
    expect(
      cached.every((u) => /^\/(index\.html|assets\/|icons\/|favicon\.svg|manifest\.webmanifest)/.test(u)),
    ).toBe(true);
    await a.context.close();
    await b.context.close();
  });

  it('a new version takes over the open tab and reloads it onto the new app', async () => {
    const u = await openUser(browser, server.url);
    await register(u.page, `swnew${run}`, PASSWORD);
    await waitForServiceWorker(u.page);
    const before = await u.page.evaluate(() => {
      (window as unknown as { stale: boolean }).stale = true;
      return navigator.serviceWorker.controller?.scriptURL;
    });
    // Publish a new version: any byte change of sw.js makes the browser install it.
    appendFileSync(path.join(webRoot, 'sw.js'), `\n// version ${Date.now()}\n`);
    await u.page.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => r?.update()));
    // The page reloaded by itself (the marker is gone) and is controlled by the new worker.
    await expect
      .poll(() => u.page.evaluate(() => (window as unknown as { stale?: boolean }).stale ?? false), {
        timeout: 20_000,
      })
      .toBe(false);
    await waitForServiceWorker(u.page);
    expect(await u.page.evaluate(() => navigator.serviceWorker.controller?.scriptURL)).toBe(before);
    await u.page.getByTestId('signed-in-as').waitFor();
    expect(u.errors).toEqual([]);
    await u.context.close();
  });
});
