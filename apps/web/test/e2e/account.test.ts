import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  bubbleState,
  launchBrowser,
  openConversation,
  openUser,
  registerPair,
  ServerProcess,
  sendText,
  signIn,
  startChat,
  type UserPage,
  waitOnline,
} from './harness';

/**
 * The Settings page's account actions against the real server: changing the password signs
 * the other devices out while this one goes on; "sign out of all devices" ends every session.
 */
const chromiumPath = inject('chromiumPath');
const PASSWORD = 'correct horse battery';
const run = Date.now().toString(36).slice(-5);
const ANA = `acct${run}`;
const BEN = `acctpeer${run}`;

describe.skipIf(!chromiumPath)('account actions in Settings', () => {
  const server = new ServerProcess();
  let browser: Browser;
  let ana: UserPage;
  let ben: UserPage;

  beforeAll(async () => {
    await server.start();
    browser = await launchBrowser(chromiumPath!);
    [ana, ben] = await registerPair(browser, server.url, PASSWORD, ANA, BEN);
    await startChat(ana.page, BEN);
    await sendText(ana.page, 'before the password change');
  });

  afterAll(async () => {
    await browser?.close();
    await server.dispose();
  });

  it('changes the password: other devices are signed out, this one goes on', async () => {
    const other = await openUser(browser, server.url);
    await signIn(other.page, ANA, PASSWORD);
    await waitOnline(other.page);
    await ana.page.getByRole('button', { name: 'Settings' }).click();
    const current = ana.page.getByLabel('Current password');
    const next = ana.page.getByLabel('New password', { exact: true });
    const submit = ana.page.getByRole('button', { name: 'Change password' });
    await current.fill('not my password');
    await next.fill('a new password 1');
    await submit.click();
    await expect.poll(() => ana.page.getByRole('alert').textContent()).toBe('The current password is wrong.');
    // 7 characters are refused here already, 8 pass.
    await current.fill(PASSWORD);
    await next.fill('1234567');
    await submit.click();
    await expect
      .poll(() => ana.page.getByRole('alert').textContent())
      .toBe('The password must be 8–256 characters long.');
    await next.fill('12345678');
    await submit.click();
    await expect
      .poll(() => ana.page.getByRole('status').filter({ hasText: 'Password changed' }).count())
      .toBe(1);
    await other.page.getByText('Your session has ended. Please sign in again.').waitFor({ timeout: 15_000 });
    await ana.page.getByRole('button', { name: 'Back to chats' }).click();
    await openConversation(ana.page, BEN);
    await sendText(ana.page, 'still signed in after the change');
    await openConversation(ben.page, ANA);
    await expect
      .poll(() => bubbleState(ben.page, 'still signed in after the change'), { timeout: 15_000 })
      .toBe('received');
    await signIn(other.page, ANA, '12345678');
    await other.context.close();
  });

  it('signs out of all devices', async () => {
    const other = await openUser(browser, server.url);
    await signIn(other.page, ANA, '12345678');
    await waitOnline(other.page);
    await ana.page.getByRole('button', { name: 'Settings' }).click();
    await ana.page.getByRole('button', { name: 'Sign out of all devices' }).click();
    await ana.page.getByRole('heading', { name: 'Sign in to Pigeon' }).waitFor();
    await other.page.getByText('Your session has ended. Please sign in again.').waitFor({ timeout: 15_000 });
    await other.context.close();
  });
});
