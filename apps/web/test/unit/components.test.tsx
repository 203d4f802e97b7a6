import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// The components talk to the server only through the bridge and the conversation actions;
// here both are replaced by spies (drafts and sending still change the store, as the real ones do).
const bridge = vi.hoisted(() => ({
  send: vi.fn(),
  retry: vi.fn(),
  discard: vi.fn(),
  notifyTyping: vi.fn(),
  setDraft: vi.fn(),
  startChat: vi.fn(),
  loadOlder: vi.fn(),
  signIn: vi.fn(),
  signOut: vi.fn(),
  setLanguage: vi.fn(),
  setPreferences: vi.fn(),
  retryConnection: vi.fn(),
  waitUntilSent: vi.fn(),
}));
vi.mock('../../src/store/client-bridge', () => bridge);
vi.mock('../../src/store/conversation-actions', () => bridge);

import { Composer } from '../../src/components/composer';
import { ConnectionStatus } from '../../src/components/connection-status';
import { ConversationList } from '../../src/components/conversation-list';
import { MessageBubble } from '../../src/components/message-bubble';
import { explainAuthError, SignInScreen } from '../../src/components/sign-in-screen';
import { type StringKey, translate } from '../../src/i18n/strings';
import { en } from '../../src/i18n/strings-en';
import { zh } from '../../src/i18n/strings-zh';
import { chatActions } from '../../src/store/chat-actions';
import { type ChatMessage, messageKey } from '../../src/store/message-model';

const t = (key: StringKey, params?: Record<string, string | number>) => translate('en', key, params);

function message(over: Partial<ChatMessage>): ChatMessage {
  return {
    key: messageKey('alice', 'm1'),
    id: 'm1',
    from: 'alice',
    to: 'bob',
    body: 'hello',
    ts: Date.UTC(2026, 0, 2, 10, 30),
    confirmed: true,
    state: 'sent',
    ...over,
  };
}

beforeEach(() => {
  chatActions.reset('en');
  chatActions.signedIn('alice');
  for (const fn of Object.values(bridge)) fn.mockReset();
  bridge.setDraft.mockImplementation((peer: string, text: string) => chatActions.setDraft(peer, text));
  bridge.send.mockImplementation((peer: string) => chatActions.setDraft(peer, ''));
});
afterEach(cleanup);

describe('composer', () => {
  it('sends on Enter, keeps Shift+Enter as a new line, and is disabled when empty', () => {
    render(<Composer peer="bob" />);
    const box = screen.getByLabelText('Message to bob') as HTMLTextAreaElement;
    const button = screen.getByRole('button', { name: 'Send' }) as HTMLButtonElement;
    expect(button.disabled).toBe(true);
    fireEvent.change(box, { target: { value: '   ' } });
    expect(button.disabled).toBe(true);
    fireEvent.change(box, { target: { value: 'hi\nthere' } });
    expect(bridge.notifyTyping).toHaveBeenCalledWith('bob');
    fireEvent.keyDown(box, { key: 'Enter', shiftKey: true });
    expect(bridge.send).not.toHaveBeenCalled();
    fireEvent.keyDown(box, { key: 'Enter' });
    expect(bridge.send).toHaveBeenCalledWith('bob', 'hi\nthere');
    expect(box.value).toBe('');
  });

  it('does not send while an input method is composing', () => {
    render(<Composer peer="bob" />);
    const box = screen.getByLabelText('Message to bob');
    fireEvent.change(box, { target: { value: 'ni' } });
    fireEvent.keyDown(box, { key: 'Enter', isComposing: true });
    expect(bridge.send).not.toHaveBeenCalled();
  });

  it('counts down near the limit: 4000 characters send, 4001 do not', () => {
    render(<Composer peer="carol" />);
    const box = screen.getByLabelText('Message to carol');
    const button = screen.getByRole('button', { name: 'Send' }) as HTMLButtonElement;
    fireEvent.change(box, { target: { value: 'x'.repeat(3499) } });
    expect(screen.queryByText(/characters left/)).toBeNull();
    fireEvent.change(box, { target: { value: 'x'.repeat(3500) } });
    expect(screen.getByText(t('charsLeft', { count: 500 }))).toBeTruthy();
    fireEvent.change(box, { target: { value: 'x'.repeat(4001) } });
    expect(screen.getByText(t('charsOver', { count: 1 }))).toBeTruthy();
    expect(button.disabled).toBe(true);
    fireEvent.keyDown(box, { key: 'Enter' });
    expect(bridge.send).not.toHaveBeenCalled();
    fireEvent.change(box, { target: { value: 'x'.repeat(4000) } });
    expect(button.disabled).toBe(false);
    fireEvent.click(button);
    expect(bridge.send).toHaveBeenCalledWith('carol', 'x'.repeat(4000));
  });
});

describe('message bubble', () => {
  it('shows markup as text, never as HTML', () => {
    const { container } = render(
      <MessageBubble message={message({ body: '<img src=x onerror=alert(1)><b>bold</b>' })} />,
    );
    expect(container.querySelector('img')).toBeNull();
    expect(container.querySelector('b')).toBeNull();
    expect(container.querySelector('.bubble-text')?.textContent).toBe(
      '<img src=x onerror=alert(1)><b>bold</b>',
    );
  });

  it('labels each state for screen readers', () => {
    for (const [state, label] of [
      ['sending', 'Sending'],
      ['sent', 'Sent'],
      ['delivered', 'Delivered'],
    ] as const) {
      const { container, unmount } = render(<MessageBubble message={message({ state })} />);
      expect(container.querySelector('.tick .sr-only')?.textContent).toBe(label);
      unmount();
    }
    const { container } = render(
      <MessageBubble message={message({ from: 'bob', to: 'alice', state: 'received' })} />,
    );
    expect(container.querySelector('.tick')).toBeNull();
  });

  it('offers retry and discard on a failed message, with the reason', () => {
    render(
      <MessageBubble message={message({ state: 'failed', confirmed: false, errorCode: 'no_such_user' })} />,
    );
    expect(screen.getByText(t('failed_no_such_user'))).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Retry' }));
    expect(bridge.retry).toHaveBeenCalledWith('m1');
    fireEvent.click(screen.getByRole('button', { name: 'Discard' }));
    expect(bridge.discard).toHaveBeenCalledWith('m1');
  });
});

describe('message text', () => {
  const links = (body: string) => {
    const { container, unmount } = render(<MessageBubble message={message({ body })} />);
    const found = [...container.querySelectorAll('.bubble-text a')].map((a) => [
      a.textContent,
      a.getAttribute('href'),
      a.getAttribute('target'),
      a.getAttribute('rel'),
    ]);
    const text = container.querySelector('.bubble-text')?.textContent;
    unmount();
    return { found, text };
  };

  it('links http, https, mailto, e-mail addresses and bare www., opening in a new tab', () => {
    const r = links('see https://example.com/a?b=1, www.pigeon.chat or mail bob@example.org');
    expect(r.found).toEqual([
      ['https://example.com/a?b=1', 'https://example.com/a?b=1', '_blank', 'noopener noreferrer'],
      ['www.pigeon.chat', 'http://www.pigeon.chat/', '_blank', 'noopener noreferrer'],
      ['bob@example.org', 'mailto:bob@example.org', '_blank', 'noopener noreferrer'],
    ]);
    expect(r.text).toBe('see https://example.com/a?b=1, www.pigeon.chat or mail bob@example.org');
  });

  it('never links javascript:, data:, ftp: or a bare file name', () => {
    for (const body of [
      'javascript:alert(1)',
      'data:text/html,<b>x</b>',
      'ftp://x.org/f',
      'open file.py now',
    ]) {
      const r = links(body);
      expect(r.found).toEqual([]);
      expect(r.text).toBe(body);
    }
  });

  it('shows up to three emoji alone large, and lays out right-to-left text from the right', () => {
    const big = (body: string) => {
      const { container, unmount } = render(<MessageBubble message={message({ body })} />);
      const el = container.querySelector('.bubble-text')!;
      const result = [el.classList.contains('is-emoji'), el.getAttribute('dir')];
      unmount();
      return result;
    };
    expect(big('👍')).toEqual([true, 'auto']);
    expect(big('🇨🇳 👨‍👩‍👧 ❤️')).toEqual([true, 'auto']);
    expect(big('😀😀😀😀')).toEqual([false, 'auto']);
    expect(big('ok 👍')).toEqual([false, 'auto']);
    expect(big('123')).toEqual([false, 'auto']);
    expect(big('مرحبا')).toEqual([false, 'auto']);
  });
});

describe('conversation list', () => {
  it('marks a draft in another conversation, and isolates right-to-left previews', () => {
    chatActions.signedIn('alice', undefined, new Map([['carol', 'unfinished']]));
    chatActions.receive([
      {
        t: 'msg',
        cursor: 'c2',
        id: 'x2',
        from: 'bob',
        to: 'alice',
        body: 'مرحبا بك',
        ts: 1,
        delivered: false,
      },
    ]);
    const { container } = render(<ConversationList />);
    const draft = container.querySelector('[data-peer="carol"] [data-testid="draft"]');
    expect(draft?.textContent).toBe(`${t('draftPrefix')}unfinished`);
    const bdi = container.querySelector('[data-peer="bob"] .conversation-preview bdi');
    expect(bdi?.textContent).toBe('مرحبا بك');
  });
});

describe('connection status', () => {
  it('says "Waiting for network" without a retry, and offers "Retry now" while waiting to reconnect', () => {
    chatActions.setStatus({ kind: 'waiting_for_network' });
    const { unmount } = render(<ConnectionStatus />);
    expect(screen.getByRole('status').textContent).toBe('Waiting for network');
    expect(screen.queryByRole('button', { name: 'Retry now' })).toBeNull();
    unmount();
    chatActions.setStatus({ kind: 'reconnecting', nextAttemptAt: Date.now() + 28_000 });
    render(<ConnectionStatus />);
    expect(screen.getByRole('status').textContent).toMatch(/^Reconnecting in 2[78] s$/);
    fireEvent.click(screen.getByRole('button', { name: 'Retry now' }));
    expect(bridge.retryConnection).toHaveBeenCalled();
  });
});

describe('sign-in screen', () => {
  it('explains every server error code in place', () => {
    const tr = (key: StringKey, params?: Record<string, string | number>) => t(key, params);
    expect(explainAuthError(tr, { code: 'user_taken' })).toBe(t('err_user_taken'));
    expect(explainAuthError(tr, { code: 'weak_password' })).toBe(
      t('err_weak_password', { min: 8, max: 256 }),
    );
    expect(explainAuthError(tr, { code: 'bad_credentials' })).toBe(t('err_bad_credentials'));
    expect(explainAuthError(tr, { code: 'invalid_user' })).toBe(t('err_invalid_user'));
    expect(explainAuthError(tr, { code: 'rate_limited', retryAfterSeconds: 42 })).toBe(
      t('err_rate_limited', { seconds: 42 }),
    );
    expect(explainAuthError(tr, { code: 'unreachable' })).toBe(t('err_network'));
  });

  it('shows a server refusal next to the field it concerns', async () => {
    chatActions.signedOut();
    bridge.signIn.mockResolvedValue({ code: 'rate_limited', retryAfterSeconds: 7 });
    render(<SignInScreen />);
    fireEvent.change(screen.getByLabelText('User id'), { target: { value: 'alice' } });
    fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'secret-password' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect((await screen.findByRole('alert')).textContent).toBe(t('err_rate_limited', { seconds: 7 }));
    expect(bridge.signIn).toHaveBeenCalledWith('signin', 'alice', 'secret-password');
  });

  it('checks a new account locally at the boundaries: 8-character passwords pass, 7 do not', async () => {
    chatActions.signedOut();
    bridge.signIn.mockResolvedValue(null);
    render(<SignInScreen />);
    fireEvent.click(screen.getByRole('button', { name: t('switchToRegister') }));
    fireEvent.change(screen.getByLabelText('User id'), { target: { value: 'new.user' } });
    fireEvent.change(screen.getByLabelText('Password'), { target: { value: '1234567' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create account' }));
    expect((await screen.findByRole('alert')).textContent).toBe(t('err_weak_password', { min: 8, max: 256 }));
    expect(bridge.signIn).not.toHaveBeenCalled();
    fireEvent.change(screen.getByLabelText('Password'), { target: { value: '12345678' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create account' }));
    await vi.waitFor(() => expect(bridge.signIn).toHaveBeenCalledWith('register', 'new.user', '12345678'));
  });
});

describe('strings', () => {
  it('has every English string in Chinese too', () => {
    expect(Object.keys(zh).sort()).toEqual(Object.keys(en).sort());
    for (const value of Object.values(zh)) {
      const forms = typeof value === 'string' ? [value] : Object.values(value);
      for (const form of forms) expect(form.length).toBeGreaterThan(0);
    }
  });
});
