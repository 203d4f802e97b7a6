import { LIMITS } from '@pigeon/protocol';
import { type FormEvent, type KeyboardEvent, useEffect, useId, useRef, useState } from 'react';
import { DEFAULTS } from '../config';
import { useT } from '../i18n/use-strings';
import { useChatStore } from '../store/chat-store';
import { notifyTyping, send } from '../store/client-bridge';

/**
 * Drafts per user and conversation, kept while the page lives, so switching chats loses
 * nothing (and the next user of a shared browser does not see them).
 */
const drafts = new Map<string, string>();

export function Composer({ peer }: { peer: string }) {
  const t = useT();
  const ids = { input: useId(), counter: useId(), hint: useId() };
  const me = useChatStore((s) => s.me);
  const draftKey = `${me}\u0000${peer}`;
  const [text, setText] = useState(() => drafts.get(draftKey) ?? '');
  const inputRef = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    drafts.set(draftKey, text);
  }, [draftKey, text]);

  const left = LIMITS.bodyMaxLength - text.length;
  const over = left < 0;
  const empty = text.trim().length === 0;

  function submit(e?: FormEvent) {
    e?.preventDefault();
    if (empty || over) return;
    send(peer, text);
    setText('');
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
        value={text}
        placeholder={t('composerPlaceholder')}
        onChange={(e) => {
          setText(e.target.value);
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
