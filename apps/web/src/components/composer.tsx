import { LIMITS } from '@pigeon/protocol';
import { type FormEvent, type KeyboardEvent, useId, useRef } from 'react';
import { DEFAULTS } from '../config';
import { useT } from '../i18n/use-strings';
import { useChatStore } from '../store/chat-store';
import { notifyTyping, send, setDraft } from '../store/conversation-actions';

/**
 * The message field. Its text is the conversation's draft in the store, saved per user (see
 * client-bridge.ts), so switching chats or reloading loses nothing and the list marks it.
 */
export function Composer({ peer }: { peer: string }) {
  const t = useT();
  const ids = { input: useId(), counter: useId(), hint: useId() };
  const text = useChatStore((s) => s.drafts.get(peer) ?? '');
  const inputRef = useRef<HTMLTextAreaElement>(null);

  const left = LIMITS.bodyMaxLength - text.length;
  const over = left < 0;
  const empty = text.trim().length === 0;

  function submit(e?: FormEvent) {
    e?.preventDefault();
    if (empty || over) return;
    send(peer, text);
    inputRef.current?.focus();
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    // Enter while an input method is composing (e.g. pinyin) picks a candidate; it must not send.
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      submit();
    }
  }

  return (
    <form className="composer" onSubmit={submit}>
      <label htmlFor={ids.input} className="sr-only">
        {t('composerLabel', { user: peer })}
      </label>
      <textarea
        id={ids.input}
        ref={inputRef}
        name="content"
        rows={1}
        dir="auto"
        value={text}
        placeholder={t('composerPlaceholder')}
        onChange={(e) => {
          setDraft(peer, e.target.value);
          if (e.target.value.length > 0) notifyTyping(peer);
        }}
        onKeyDown={onKeyDown}
        aria-describedby={left <= DEFAULTS.counterFrom ? `${ids.hint} ${ids.counter}` : ids.hint}
        aria-invalid={over}
      />
      <span id={ids.hint} className="sr-only">
        {t('sendHint')}
      </span>
      {left <= DEFAULTS.counterFrom && (
        <span id={ids.counter} className={`char-counter${over ? ' is-over' : ''}`} aria-live="polite">
          {over ? t('charsOver', { count: -left }) : t('charsLeft', { count: left })}
        </span>
      )}
      <button type="submit" className="primary send-button" disabled={empty || over}>
        {t('send')}
      </button>
    </form>
  );
}
