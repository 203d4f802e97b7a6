// The chat features (issue 10) in a real browser against the real server: read receipts and
// unread counts across devices, the unread line, edit / delete / reply / react on both sides,
// block and unblock, search (中文 included) opening the message in context, and the message
// menu under axe-core. One story of three people, each test building on the last, which is
// why this file runs past 300 lines.
import type { PigeonClient } from '@pigeon/client';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  expectNoErrors,
  openMenu,
  placeInLog,
  protocolUser,
  row,
  scrollToEnd,
  sendAll,
  tick,
  unreadBadge,
} from './features';
import {
  launchBrowser,
  openConversation,
  openUser,
  registerPair,
  ServerProcess,
  sendText,
  seriousA11yViolations,
  setTabHidden,
  signIn,
  startChat,
  type UserPage,
  waitOnline,
} from './harness';

const chromiumPath = inject('chromiumPath');
const PASSWORD = 'features-password';
const run = Date.now().toString(36).slice(-5);
const ALICE = `fa${run}`;
const BOB = `fb${run}`;
const CAROL = `fc${run}`;

describe.skipIf(!chromiumPath)('chat features in a real browser against the real server', () => {
  // A high send rate only so that seeding a long conversation is quick.
  const server = new ServerProcess({ PIGEON_RATE: '100000' });
  let browser: Browser;
  let alice: UserPage;
  let bob: UserPage;
  let bob2: UserPage;
  let carol: PigeonClient;

  beforeAll(async () => {
    await server.start();
    browser = await launchBrowser(chromiumPath!);
    [alice, bob] = await registerPair(browser, server.url, PASSWORD, ALICE, BOB);
    bob2 = await openUser(browser, server.url);
    await signIn(bob2.page, BOB, PASSWORD);
    await waitOnline(bob2.page);
  });

  afterAll(async () => {
    carol?.stop();
    await browser?.close();
    await server.dispose();
  });

  it('colours the ticks only once the recipient’s tab has shown the message', async () => {
    await startChat(alice.page, BOB);
    await sendText(alice.page, 'first hello');
    await openConversation(bob.page, ALICE);
    await expect.poll(() => tick(alice.page, 'first hello'), { timeout: 10_000 }).toBe('read');

    // Bob's tab goes to the background with the conversation open: delivered (✓✓ grey), not read.
    await setTabHidden(bob.page, true);
    await sendText(alice.page, 'are you looking?');
    await expect.poll(() => tick(alice.page, 'are you looking?')).toBe('delivered');
    // Bob's page has it in view, and the server still counts it unread (his other device says so).
    await expect.poll(() => placeInLog(bob.page, 'are you looking?')).toBe('visible');
    await expect.poll(() => unreadBadge(bob2.page, ALICE)).toBe('1');
    expect(await tick(alice.page, 'are you looking?')).toBe('delivered');
    const tickColour = () =>
      row(alice.page, 'are you looking?')
        .locator('.tick')
        .evaluate((el) => getComputedStyle(el).color);
    const grey = await tickColour();
    // Shown: read, and the ticks take the colour.
    await setTabHidden(bob.page, false);
    await expect.poll(() => tick(alice.page, 'are you looking?')).toBe('read');
    expect(await tickColour()).not.toBe(grey);
    await expect.poll(() => unreadBadge(bob2.page, ALICE)).toBeNull();
    // The conversation list carries the state too.
    await expect
      .poll(() =>
        alice.page
          .locator(`button.conversation[data-peer="${BOB}"] [data-testid="list-tick"]`)
          .getAttribute('data-state'),
      )
      .toBe('read');
  });

  it('clears unread on the second device after reading on the first', async () => {
    // Bob's first device leaves the conversation; his second sits on the list.
    await bob.page.keyboard.press('Escape');
    await expect.poll(() => bob.page.locator('#chat-title').count()).toBe(0);
    await sendText(alice.page, 'one for both devices');
    await sendText(alice.page, 'two for both devices');
    await expect.poll(() => unreadBadge(bob2.page, ALICE)).toBe('2');
    await expect.poll(() => unreadBadge(bob.page, ALICE)).toBe('2');
    expect(await tick(alice.page, 'two for both devices')).not.toBe('read');
    // Reading on the first device clears both, and Alice sees it read.
    await openConversation(bob.page, ALICE);
    await expect.poll(() => unreadBadge(bob2.page, ALICE)).toBeNull();
    await expect.poll(() => bob2.page.title()).toBe('Pigeon');
    await expect.poll(() => tick(alice.page, 'two for both devices')).toBe('read');
  });

  it('opens a conversation with unread messages at the first of them, under the unread line', async () => {
    carol = await protocolUser(server.url, CAROL, PASSWORD, true);
    const texts = Array.from({ length: 80 }, (_, i) => `carol line ${i + 1}`);
    await sendAll(carol, BOB, texts.slice(0, 20));
    // Bob's first device reads the first 20: it opens at the first, and the rest are read once
    // scrolled to (the newest on screen covers everything before it).
    await expect.poll(() => unreadBadge(bob.page, CAROL)).toBe('20');
    await openConversation(bob.page, CAROL);
    await scrollToEnd(bob.page);
    await expect.poll(() => unreadBadge(bob2.page, CAROL)).toBeNull();
    await bob.page.keyboard.press('Escape');
    // Then 60 more arrive while he is away from the chat.
    await sendAll(carol, BOB, texts.slice(20));
    await expect.poll(() => unreadBadge(bob.page, CAROL)).toBe('60');
    await openConversation(bob.page, CAROL);
    const divider = bob.page.getByTestId('unread-divider');
    await expect.poll(() => divider.textContent()).toBe('60 unread messages');
    await expect.poll(() => placeInLog(bob.page, 'carol line 21')).toBe('visible');
    // The newest are far below, not on screen, so not read: the count stays until scrolled to.
    expect(await placeInLog(bob.page, 'carol line 80')).not.toBe('visible');
    // What is on screen is read (on every device of Bob's), what is below is not.
    await expect.poll(async () => Number(await unreadBadge(bob2.page, CAROL))).toBeLessThan(60);
    expect(Number(await unreadBadge(bob2.page, CAROL))).toBeGreaterThan(20);
    // Jump to the latest: everything is read, on both devices.
    await bob.page.getByRole('button', { name: /Jump to latest messages/ }).click();
    await expect.poll(() => placeInLog(bob.page, 'carol line 80')).toBe('visible');
    await expect.poll(() => unreadBadge(bob2.page, CAROL)).toBeNull();
  });

  it('does not count a message that arrives while scrolled up as read, and says how many are new', async () => {
    const log = bob.page.locator('.log-scroll');
    await log.evaluate((el) => {
      el.scrollTop = 0;
    });
    await expect.poll(() => placeInLog(bob.page, 'carol line 80')).not.toBe('visible');
    await sendAll(carol, BOB, ['while you scroll 1', 'while you scroll 2']);
    const jump = bob.page.getByRole('button', { name: /Jump to latest messages/ });
    await expect.poll(() => jump.textContent()).toContain('2 new messages');
    await expect.poll(() => unreadBadge(bob2.page, CAROL)).toBe('2');
    await jump.click();
    await expect.poll(() => unreadBadge(bob2.page, CAROL)).toBeNull();
  });

  it('edits, reacts, replies and deletes, on both sides', async () => {
    await openConversation(bob.page, ALICE);
    await sendText(alice.page, 'teh cat sat');
    await expect.poll(() => row(bob.page, 'teh cat sat').count()).toBe(1);

    // Alice edits through the menu: the composer takes the text; Enter saves.
    const menu = await openMenu(alice.page, 'teh cat sat');
    await menu.getByRole('menuitem', { name: 'Edit' }).click();
    const box = alice.page.locator('.composer textarea');
    await expect.poll(() => box.inputValue()).toBe('teh cat sat');
    await box.fill('the cat sat');
    await box.press('Enter');
    for (const page of [alice.page, bob.page]) {
      await expect.poll(() => row(page, 'the cat sat').locator('.edited').count()).toBe(1);
      expect(await row(page, 'teh cat sat').count()).toBe(0);
    }

    // Bob reacts; Alice sees the count under the bubble; Bob changes his mind.
    const bobMenu = await openMenu(bob.page, 'the cat sat');
    await bobMenu.getByRole('menuitemradio', { name: 'React with 👍' }).click();
    const chip = (page: typeof alice.page) => row(page, 'the cat sat').locator('.reaction');
    await expect.poll(() => chip(alice.page).allTextContents()).toEqual(['👍1']);
    await (await openMenu(bob.page, 'the cat sat'))
      .getByRole('menuitemradio', { name: 'React with ❤️' })
      .click();
    await expect.poll(() => chip(alice.page).allTextContents()).toEqual(['❤️1']);
    // Alice adds the same one by pressing the chip: 2, pressed for her.
    await chip(alice.page).click();
    await expect.poll(() => chip(bob.page).allTextContents()).toEqual(['❤️2']);
    expect(await chip(alice.page).getAttribute('aria-pressed')).toBe('true');

    // Bob replies to it: the quote shows above his message on both sides.
    await (await openMenu(bob.page, 'the cat sat')).getByRole('menuitem', { name: 'Reply' }).click();
    await expect
      .poll(() => bob.page.getByTestId('compose-bar').textContent())
      .toContain(`Replying to ${ALICE}`);
    await sendText(bob.page, 'on the mat?');
    for (const page of [alice.page, bob.page]) {
      await expect
        .poll(() => row(page, 'on the mat?').locator('.reply-quote-text').textContent())
        .toBe('the cat sat');
    }

    // Alice deletes hers for everyone: a note on both sides, and the quote says so.
    await (await openMenu(alice.page, 'the cat sat')).getByRole('menuitem', { name: 'Delete' }).click();
    await alice.page.getByRole('button', { name: 'Delete for everyone' }).click();
    await expect.poll(() => bob.page.getByText('This message was deleted').count()).toBe(1);
    await expect.poll(() => alice.page.getByText('You deleted this message').count()).toBe(1);
    for (const page of [alice.page, bob.page]) {
      await expect
        .poll(() => row(page, 'on the mat?').locator('.reply-quote-text').textContent())
        .toBe('Deleted message');
    }

    // Bob deletes Alice's first message for himself only.
    await (await openMenu(bob.page, 'first hello')).getByRole('menuitem', { name: 'Delete' }).click();
    await expect.poll(() => bob.page.getByRole('button', { name: 'Delete for everyone' }).count()).toBe(0);
    await bob.page.getByRole('button', { name: 'Delete for me' }).click();
    await expect.poll(() => row(bob.page, 'first hello').count()).toBe(0);
    expect(await row(alice.page, 'first hello').count()).toBe(1);
    // His other device follows; a reload shows the same.
    await openConversation(bob2.page, ALICE);
    await expect.poll(() => row(bob2.page, 'on the mat?').count()).toBe(1);
    expect(await row(bob2.page, 'first hello').count()).toBe(0);
    expect(await bob2.page.getByText('This message was deleted').count()).toBe(1);
  });

  it('choosing a quote scrolls to the original, loading history as needed', async () => {
    // The original, then a long stretch after it, then an answer to it.
    const original = carol.send(BOB, 'the original question');
    await sendAll(
      carol,
      BOB,
      Array.from({ length: 120 }, (_, i) => `filler ${i + 1}`),
    );
    carol.send(BOB, 'answering that one', { replyTo: { from: CAROL, id: original.id } });
    await carol.flush();
    // Bob reads it all on his first device (the newest on screen covers everything before it)...
    await openConversation(bob.page, CAROL);
    await scrollToEnd(bob.page);
    await expect.poll(() => unreadBadge(bob2.page, CAROL)).toBeNull();
    // ...so his second one opens at the newest, far below the original.
    await openConversation(bob2.page, CAROL);
    const quote = row(bob2.page, 'answering that one').locator('.reply-quote');
    await expect.poll(() => quote.textContent()).toContain('the original question');
    expect(await placeInLog(bob2.page, 'the original question')).toBe('absent');
    await quote.click();
    await expect.poll(() => placeInLog(bob2.page, 'the original question')).toBe('visible');
    expect(await row(bob2.page, 'the original question').getAttribute('class')).toContain('is-focused');
    await bob2.page.keyboard.press('Escape');
  });

  it('blocks and unblocks: nothing sent meanwhile arrives, the list is in Settings', async () => {
    await openConversation(bob.page, ALICE);
    await bob.page.getByRole('button', { name: 'More options for this chat' }).click();
    await bob.page.getByRole('menuitem', { name: `Block ${ALICE}` }).click();
    await bob.page.getByRole('button', { name: 'Block', exact: true }).click();
    await expect.poll(() => bob.page.getByText(`You blocked ${ALICE}.`, { exact: false }).count()).toBe(1);
    // Alice is told nothing: her message is stored (✓) and never reaches Bob.
    await sendText(alice.page, 'can you hear me?');
    await expect.poll(() => tick(alice.page, 'can you hear me?')).toBe('sent');
    await bob2.page.locator('.app-header').getByRole('button', { name: 'Settings' }).click();
    const list = bob2.page.getByRole('list', { name: 'Blocked users' });
    await expect.poll(() => list.textContent()).toContain(ALICE);
    // Unblocked from the other device's Settings.
    await bob2.page.getByRole('button', { name: `Unblock ${ALICE}` }).click();
    await expect.poll(() => bob.page.locator('.composer textarea').count()).toBe(1);
    await sendText(alice.page, 'and now?');
    await expect.poll(() => row(bob.page, 'and now?').count()).toBe(1);
    expect(await row(bob.page, 'can you hear me?').count()).toBe(0);
    expect(await tick(alice.page, 'can you hear me?')).toBe('sent');
    await bob2.page.getByRole('button', { name: 'Back to chats' }).click();
  });

  it('finds a Chinese word and opens the message in context, scrolling both ways', async () => {
    // Dave's whole conversation with Bob: 70 messages, the one with 中文, 70 more.
    const dave = await protocolUser(server.url, `fd${run}`, PASSWORD, true);
    const before = Array.from({ length: 70 }, (_, i) => `earlier ${i + 1}`);
    const after = Array.from({ length: 70 }, (_, i) => `later ${i + 1}`);
    await sendAll(dave, BOB, [...before, '我会说中文吗？', ...after]);
    dave.stop();
    await bob.page.getByRole('button', { name: 'Search messages' }).click();
    await bob.page.getByRole('searchbox', { name: 'Search messages' }).fill('中文');
    await bob.page.getByRole('searchbox', { name: 'Search messages' }).press('Enter');
    const result = bob.page.getByTestId('search-result').filter({ hasText: '我会说中文吗' });
    await expect.poll(() => result.count()).toBe(1);
    expect(await result.locator('mark').allTextContents()).toEqual(['中文']);
    await result.click();
    await expect.poll(() => bob.page.locator('#chat-title').textContent()).toBe(`fd${run}`);
    await expect.poll(() => placeInLog(bob.page, '我会说中文吗？')).toBe('visible');
    expect(await row(bob.page, '我会说中文吗？').getAttribute('class')).toContain('is-focused');
    // Its neighbours are there on both sides.
    expect(await row(bob.page, 'earlier 70').count()).toBe(1);
    expect(await row(bob.page, 'later 1').count()).toBe(1);
    // Scrolling up loads older messages, scrolling down newer ones up to the newest.
    const log = bob.page.locator('.log-scroll');
    const scrollTo = (where: 'top' | 'bottom') =>
      log.evaluate((el, w) => {
        el.scrollTop = w === 'top' ? 0 : el.scrollHeight;
      }, where);
    await expect
      .poll(
        async () => {
          await scrollTo('top');
          return row(bob.page, 'earlier 1').count();
        },
        { timeout: 15_000 },
      )
      .toBe(1);
    await expect
      .poll(
        async () => {
          await scrollTo('bottom');
          return log.getAttribute('data-newer');
        },
        { timeout: 15_000 },
      )
      .toBe('newest');
    await expect
      .poll(async () => {
        await scrollTo('bottom');
        return placeInLog(bob.page, 'later 70');
      })
      .toBe('visible');
  });

  it('passes axe-core with the message menu open, in both themes', async () => {
    await openConversation(alice.page, BOB);
    await openMenu(alice.page, 'and now?');
    expect(await seriousA11yViolations(alice.page)).toEqual([]);
    await alice.page.emulateMedia({ colorScheme: 'dark' });
    expect(await seriousA11yViolations(alice.page)).toEqual([]);
    await alice.page.keyboard.press('Escape');
    await expect.poll(() => alice.page.getByRole('menu').count()).toBe(0);
    // Escape gave the focus back to the button that opened it.
    expect(await alice.page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe(
      'Message actions',
    );
    await alice.page.emulateMedia({ colorScheme: 'light' });
    for (const u of [alice, bob, bob2]) await expectNoErrors(u);
  });
});
