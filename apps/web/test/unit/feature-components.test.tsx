// The chat features' components (bubble states, the message menu, the composer's bars, search,
// privacy settings) against one set of spies of the client: one subject, one file, ~300 lines.
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// The components reach the client only through these modules; here they are spies (canChange
// and the store stay real, so what is offered follows the real rules).
const requests = vi.hoisted(() => ({
  showMessage: vi.fn(),
  toggleReaction: vi.fn(),
  startReply: vi.fn(),
  startEdit: vi.fn(),
  cancelCompose: vi.fn(),
  copyText: vi.fn(),
  unblock: vi.fn(),
  block: vi.fn(),
  setReadReceipts: vi.fn(),
  deleteForEveryone: vi.fn(),
  deleteForMe: vi.fn(),
  search: vi.fn(),
}));
const actions = vi.hoisted(() => ({
  send: vi.fn(),
  retry: vi.fn(),
  discard: vi.fn(),
  notifyTyping: vi.fn(),
  setDraft: vi.fn(),
}));
vi.mock('../../src/store/feature-requests', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/store/feature-requests')>();
  return { ...real, ...requests };
});
vi.mock('../../src/store/log-positions', () => ({ showMessage: requests.showMessage }));
vi.mock('../../src/store/conversation-actions', () => actions);
vi.mock('../../src/store/client-bridge', () => ({ finishSignOut: vi.fn() }));

import { Composer } from '../../src/components/composer';
import { MessageBubble } from '../../src/components/message-bubble';
import { MessageMenu } from '../../src/components/message-menu';
import { highlighted } from '../../src/components/search-panel';
import { SettingsPage } from '../../src/components/settings-page';
import { chatActions } from '../../src/store/chat-actions';
import { useChatStore } from '../../src/store/chat-store';
import { featureActions } from '../../src/store/feature-actions';
import { type ChatMessage, messageKey } from '../../src/store/message-model';

const ALL = ['paging', 'read', 'edit', 'reply', 'react', 'block', 'search'] as const;

function message(over: Partial<ChatMessage>): ChatMessage {
  const id = over.id ?? 'm1';
  const from = over.from ?? 'alice';
  return {
    key: messageKey(from, id),
    id,
    from,
    to: from === 'alice' ? 'bob' : 'alice',
    body: 'hello',
    ts: Date.now(),
    confirmed: true,
    cursor: 'c1',
    state: from === 'alice' ? 'sent' : 'received',
    ...over,
  };
}

beforeEach(() => {
  chatActions.reset('en');
  chatActions.signedIn('alice');
  featureActions.setFeatures([...ALL]);
  for (const fn of [...Object.values(requests), ...Object.values(actions)]) fn.mockReset();
});
afterEach(cleanup);

describe('a bubble with the chat features', () => {
  it('shows ✓✓ read to screen readers as "Read", and "edited"', () => {
    render(<MessageBubble message={message({ state: 'read', edited: Date.now() })} />);
    expect(screen.getByText('Read')).toBeTruthy();
    expect(screen.getByText('edited')).toBeTruthy();
  });

  it('a message deleted for everyone is a note, with no text, quote or reactions left', () => {
    const gone = message({ from: 'bob', deleted: true, body: '' });
    const { container } = render(<MessageBubble message={gone} />);
    expect(screen.getByText('This message was deleted')).toBeTruthy();
    expect(container.querySelector('.reactions, .reply-quote')).toBeNull();
    cleanup();
    render(<MessageBubble message={message({ deleted: true, body: '' })} />);
    expect(screen.getByText('You deleted this message')).toBeTruthy();
  });

  it('a quote names its author and text; choosing it shows the original at its cursor', () => {
    const m = message({
      from: 'bob',
      replyTo: { from: 'alice', id: 'q', cursor: 'cQ', body: 'where are you?' },
    });
    render(<MessageBubble message={m} />);
    const quote = screen.getByRole('button', {
      name: /Show the message this answers: you: where are you\?/,
    });
    fireEvent.click(quote);
    expect(requests.showMessage).toHaveBeenCalledWith('bob', { from: 'alice', id: 'q' }, 'cQ');
  });

  it('a quote of a deleted original says so, and one removed by retention says it is unavailable', () => {
    render(<MessageBubble message={message({ replyTo: { from: 'bob', id: 'q', deleted: true } })} />);
    expect(screen.getByRole('button', { name: /Deleted message/ })).toBeTruthy();
    cleanup();
    render(<MessageBubble message={message({ replyTo: { from: 'bob', id: 'q' } })} />);
    expect(screen.getByRole('button', { name: /Original message not available/ })).toBeTruthy();
  });

  it('counts reactions under the bubble, mine pressed; pressing one toggles my reaction', () => {
    const m = message({
      reactions: [
        { by: 'bob', emoji: '😂' },
        { by: 'alice', emoji: '👍' },
        { by: 'carol', emoji: '😂' },
      ],
    });
    render(<MessageBubble message={m} />);
    const list = screen.getByRole('list', { name: 'Reactions' });
    const buttons = within(list).getAllByRole('button');
    expect(buttons.map((b) => b.textContent)).toEqual(['😂2', '👍1']);
    expect(buttons[0]?.getAttribute('aria-label')).toBe('😂: 2 reactions, from bob, carol');
    expect(buttons.map((b) => b.getAttribute('aria-pressed'))).toEqual(['false', 'true']);
    fireEvent.click(buttons[1]!);
    expect(requests.toggleReaction).toHaveBeenCalledWith(m, '👍');
  });
});

describe('opening the menu on a touch screen', () => {
  it('a finger held still for 500 ms opens it; moving (scrolling) or lifting earlier does not', () => {
    vi.useFakeTimers();
    try {
      const onMenu = vi.fn();
      const m = message({});
      const { container } = render(<MessageBubble message={m} onMenu={onMenu} />);
      const row = container.querySelector('.bubble-row')!;
      const touch = (type: string, x = 10, y = 10) =>
        row.dispatchEvent(
          Object.assign(new MouseEvent(type, { bubbles: true, clientX: x, clientY: y }), {
            pointerType: 'touch',
          }),
        );
      touch('pointerdown');
      vi.advanceTimersByTime(499);
      expect(onMenu).not.toHaveBeenCalled();
      vi.advanceTimersByTime(1);
      expect(onMenu).toHaveBeenCalledTimes(1);
      expect(onMenu.mock.calls[0]?.[0]).toBe(m);
      // A scroll: the finger moved more than 10 px.
      touch('pointerdown');
      touch('pointermove', 10, 25);
      vi.advanceTimersByTime(600);
      // Lifted before the time.
      touch('pointerdown');
      vi.advanceTimersByTime(300);
      touch('pointerup');
      vi.advanceTimersByTime(600);
      expect(onMenu).toHaveBeenCalledTimes(1);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('the message menu', () => {
  function open(m: ChatMessage) {
    const anchor = document.createElement('button');
    document.body.append(anchor);
    const onClose = vi.fn();
    const onDelete = vi.fn();
    render(<MessageMenu target={{ message: m, anchor }} peer="bob" onClose={onClose} onDelete={onDelete} />);
    return { onClose, onDelete };
  }
  const items = () =>
    [...screen.getByRole('menu').querySelectorAll('[role="menuitem"], [role="menuitemradio"]')].map(
      (el) => el.getAttribute('aria-label') ?? el.textContent,
    );

  it('offers reactions, reply, edit, copy and delete for my fresh message, and moves with the arrow keys', () => {
    const { onClose } = open(message({}));
    expect(items()).toEqual([
      'React with 👍',
      'React with ❤️',
      'React with 😂',
      'React with 😮',
      'React with 😢',
      'React with 🙏',
      'Reply',
      'Edit',
      'Copy text',
      'Delete',
    ]);
    const menu = screen.getByRole('menu');
    expect(document.activeElement?.getAttribute('aria-label')).toBe('React with 👍');
    fireEvent.keyDown(menu, { key: 'ArrowUp' });
    expect(document.activeElement?.textContent).toBe('Delete');
    fireEvent.keyDown(menu, { key: 'ArrowDown' });
    expect(document.activeElement?.getAttribute('aria-label')).toBe('React with 👍');
    fireEvent.keyDown(menu, { key: 'Escape' });
    expect(onClose).toHaveBeenCalledWith(true);
  });

  it('offers no edit for their message or for mine after 15 minutes, and only delete for a deleted one', () => {
    open(message({ from: 'bob' }));
    expect(items()).not.toContain('Edit');
    cleanup();
    open(message({ ts: Date.now() - 900_001 }));
    expect(items()).not.toContain('Edit');
    expect(items()).toContain('Delete');
    cleanup();
    open(message({ from: 'bob', deleted: true, body: '' }));
    expect(items()).toEqual(['Delete']);
  });

  it('offers only what the server enabled: a version-1 server gets copy alone', () => {
    featureActions.setFeatures([]);
    open(message({}));
    expect(items()).toEqual(['Copy text']);
  });

  it('my reaction is checked, and choosing it again takes it back', () => {
    const m = message({ reactions: [{ by: 'alice', emoji: '😮' }] });
    const { onClose } = open(m);
    const mine = screen.getByRole('menuitemradio', { name: 'Remove your reaction 😮' });
    expect(mine.getAttribute('aria-checked')).toBe('true');
    fireEvent.click(mine);
    expect(onClose).toHaveBeenCalledWith(false);
    expect(requests.toggleReaction).toHaveBeenCalledWith(m, '😮');
  });
});

describe('the composer with the chat features', () => {
  it('shows what it replies to, and Escape leaves the reply (not the chat)', () => {
    chatActions.receive([
      { t: 'msg', cursor: 'c9', id: 'q1', from: 'bob', to: 'alice', body: 'lunch?', ts: 5, delivered: true },
    ]);
    featureActions.compose('bob', { kind: 'reply', key: messageKey('bob', 'q1') });
    render(<Composer peer="bob" />);
    expect(screen.getByTestId('compose-bar').textContent).toContain('Replying to bob');
    expect(screen.getByTestId('compose-bar').textContent).toContain('lunch?');
    const esc = new KeyboardEvent('keydown', { key: 'Escape', bubbles: true, cancelable: true });
    screen.getByRole('textbox').dispatchEvent(esc);
    expect(esc.defaultPrevented).toBe(true);
    expect(requests.cancelCompose).toHaveBeenCalledWith('bob');
  });

  it('says Save while editing', () => {
    chatActions.receive([
      { t: 'msg', cursor: 'c8', id: 'e1', from: 'alice', to: 'bob', body: 'teh', ts: 5, delivered: true },
    ]);
    featureActions.compose('bob', { kind: 'edit', key: messageKey('alice', 'e1'), draft: '' });
    chatActions.setDraft('bob', 'the');
    render(<Composer peer="bob" />);
    expect(screen.getByRole('button', { name: 'Save' })).toBeTruthy();
    expect(screen.getByText('Editing your message')).toBeTruthy();
  });

  it('to someone I blocked offers to unblock instead of a field', () => {
    featureActions.setSettings({ readReceipts: true, blocked: ['bob'] });
    render(<Composer peer="bob" />);
    expect(screen.queryByRole('textbox')).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Unblock' }));
    expect(requests.unblock).toHaveBeenCalledWith('bob');
  });
});

describe('search results', () => {
  it('marks the matched UTF-16 ranges and ignores ranges that do not fit', () => {
    const { container } = render(
      <p>
        {highlighted('我会说中文吗 and more', [
          [3, 5],
          [7, 10],
          [9, 8],
          [20, 99],
        ])}
      </p>,
    );
    expect([...container.querySelectorAll('mark')].map((m) => m.textContent)).toEqual(['中文', 'and']);
    expect(container.textContent).toBe('我会说中文吗 and more');
  });
});

describe('privacy settings', () => {
  it('switches read receipts for all devices and unblocks from the list', () => {
    featureActions.setSettings({ readReceipts: true, blocked: ['carol', 'dave'] });
    render(<SettingsPage />);
    fireEvent.click(screen.getByRole('checkbox', { name: 'Send read receipts' }));
    expect(requests.setReadReceipts).toHaveBeenCalledWith(false);
    const list = screen.getByRole('list', { name: 'Blocked users' });
    expect(
      within(list)
        .getAllByRole('listitem')
        .map((li) => li.textContent),
    ).toEqual(['carolUnblock', 'daveUnblock']);
    fireEvent.click(screen.getByRole('button', { name: 'Unblock dave' }));
    expect(requests.unblock).toHaveBeenCalledWith('dave');
  });

  it('is not shown by a server without read receipts and blocking', () => {
    featureActions.setFeatures([]);
    render(<SettingsPage />);
    expect(screen.queryByRole('heading', { name: 'Privacy' })).toBeNull();
    expect(useChatStore.getState().features.size).toBe(0);
  });
});
