import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// The components talk to the server only through the bridge; here it is replaced by spies.
const bridge = vi.hoisted(() => ({
  send: vi.fn(),
  retry: vi.fn(),
  discard: vi.fn(),
  notifyTyping: vi.fn(),
  signIn: vi.fn(),
  setLanguage: vi.fn(),
  loadOlder: vi.fn(),
}));
vi.mock('../../src/store/client-bridge', () => bridge);

import { Composer } from '../../src/components/composer';
import { MessageBubble } from '../../src/components/message-bubble';
import { explainAuthError, SignInScreen } from '../../src/components/sign-in-screen';
import { format, STRINGS } from '../../src/i18n/strings';
import { chatActions } from '../../src/store/chat-store';
import { type ChatMessage, messageKey } from '../../src/store/message-model';

const t = (key: keyof typeof STRINGS.en, params?: Record<string, string | number>) =>
  format(STRINGS.en[key], params);

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

describe('sign-in screen', () => {
  it('explains every server error code in place', () => {
    const tr = (key: keyof typeof STRINGS.en, params?: Record<string, string | number>) => t(key, params);
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
    expect(Object.keys(STRINGS.zh).sort()).toEqual(Object.keys(STRINGS.en).sort());
    for (const value of Object.values(STRINGS.zh)) expect(value.length).toBeGreaterThan(0);
  });
});
