import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  bubbleState,
  launchBrowser,
  openConversation,
  openUser,
  REACHED,
  register,
  ServerProcess,
  sendText,
  startChat,
  waitOnline,
} from './harness';

/**
 * Self-hosted chat on a LAN is opened as http://<address>:8080 from other devices: a plain
 * http origin that is not a "secure context", where browsers leave out crypto.randomUUID and
 * service workers. The server binds another loopback address (127.0.0.2), and the browser
 * opens it by a name that resolves there: every 127.x address counts as a secure context
 * (it is loopback), a name does not, which is what a LAN address is to the browser.
 */
const chromiumPath = inject('chromiumPath');
const HOST = 'pigeon-lan.test';
const PASSWORD = 'correct horse battery';
const run = Date.now().toString(36).slice(-5);

describe.skipIf(!chromiumPath)('the app opened from a plain-http, non-localhost origin', () => {
  const server = new ServerProcess({ HOST: '127.0.0.2' });
  let browser: Browser;

  beforeAll(async () => {
    await server.start();
    browser = await launchBrowser(chromiumPath!, [`--host-resolver-rules=MAP ${HOST} 127.0.0.2`]);
  });

  afterAll(async () => {
    await browser?.close();
    await server.dispose();
  });

  it('is not a secure context, has no crypto.randomUUID, and still sends and receives', async () => {
    const origin = `http://${HOST}:${server.port}`;
    const a = await openUser(browser, origin);
    const b = await openUser(browser, origin);
    expect(await a.page.evaluate(() => [window.isSecureContext, typeof crypto.randomUUID])).toEqual([
      false,
      'undefined',
    ]);
    await register(a.page, `lan${run}`, PASSWORD);
    // Signed in without conversations yet: the focus waits in the new-chat field.
    await expect
      .poll(() => a.page.evaluate(() => document.activeElement?.getAttribute('name')))
      .toBe('recipient');
    await register(b.page, `peer${run}`, PASSWORD);
    await waitOnline(a.page);
    await startChat(a.page, `peer${run}`);
    await sendText(a.page, 'sent from a LAN address');
    await expect
      .poll(() => bubbleState(a.page, 'sent from a LAN address'), { timeout: 15_000 })
      .toMatch(REACHED);
    await openConversation(b.page, `lan${run}`);
    expect(await bubbleState(b.page, 'sent from a LAN address')).toBe('received');
    // A short conversation sits at the bottom of the log, next to the composer.
    const gap = await b.page.evaluate(() => {
      const log = document.querySelector('.log-scroll')!.getBoundingClientRect();
      const bubble = document.querySelector('.bubble')!.getBoundingClientRect();
      return { below: log.bottom - bubble.bottom, above: bubble.top - log.top };
    });
    expect(gap.below).toBeLessThan(24);
    expect(gap.above).toBeGreaterThan(300);
    expect(a.errors).toEqual([]);
  });
});
