import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { fillCredentials, launchBrowser, openUser, ServerProcess } from './harness';

const chromiumPath = inject('chromiumPath');

describe.skipIf(!chromiumPath)('sign-in when the server rate-limits', () => {
  // One sign-in attempt a minute per address, so the second one is refused with 429.
  const server = new ServerProcess({ PIGEON_AUTH_RATE: '1' });
  let browser: Browser;

  beforeAll(async () => {
    await server.start();
    browser = await launchBrowser(chromiumPath!);
  });

  afterAll(async () => {
    await browser?.close();
    await server.dispose();
  });

  it('says how long to wait, next to the button', async () => {
    const { page, context } = await openUser(browser, server.url);
    await fillCredentials(page, 'somebody', 'some-password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toBe('Wrong user id or password.');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toMatch(/^Too many attempts\. Try again in \d+ s\.$/);
    await context.close();
  });
});
