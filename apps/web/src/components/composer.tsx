import { LIMITS } from '@pigeon/protocol';
import { type ClipboardEvent, type FormEvent, type KeyboardEvent, useEffect, useId, useRef } from 'react';
import { DEFAULTS } from '../config';
import { useT } from '../i18n/use-strings';
import { addFiles, sendTray } from '../store/attachment-actions';
import { useChatStore } from '../store/chat-store';
import { notifyTyping, send, setDraft } from '../store/conversation-actions';
import { cancelCompose, unblock } from '../store/feature-requests';
import { AttachmentTray } from './attachment-tray';

/** What the composer answers or edits, shown above the field with a way out. */
function ComposeBar({ peer }: { peer: string }) {
  const t = useT();
  const me = useChatStore((s) => s.me);
  const mode = useChatStore((s) => s.composing.get(peer));
  const target = useChatStore((s) => {
    const c = s.conversations.get(peer);
    return mode && c
      ? (c.messages.find((m) => m.key === mode.key) ?? c.tail.find((m) => m.key === mode.key))
      : undefined;
  });
  if (!mode || !target) return null;
  const author = target.from === me ? t('you') : target.from;
  return (
    <div className={`compose-bar is-${mode.kind}`} data-testid="compose-bar">
      <div className="compose-bar-text">
        <strong>{mode.kind === 'reply' ? t('replyingTo', { user: author }) : t('editingMessage')}</strong>
        <span className="compose-bar-quote" dir="auto">
          {target.body}
        </span>
      </div>
      <button
        type="button"
        className="icon-button"
        aria-label={mode.kind === 'reply' ? t('cancelReply') : t('cancelEdit')}
        onClick={() => cancelCompose(peer)}
      >
        <span aria-hidden="true">×</span>
      </button>
    </div>
  );
}

/**
 * The message field. Its text is the conversation's draft in the store, saved per user (see
 * client-bridge.ts), so switching chats or reloading loses nothing and the list marks it. It
 * also answers a message (reply) or holds the new text of one of mine (edit); Escape leaves
 * either. To someone I blocked it offers to unblock first.
 */
export function Composer({ peer }: { peer: string }) {
  const t = useT();
  const ids = { input: useId(), counter: useId(), hint: useId() };
  const text = useChatStore((s) => s.drafts.get(peer) ?? '');
  const mode = useChatStore((s) => s.composing.get(peer));
  const blocked = useChatStore((s) => s.blocked?.includes(peer) === true);
  const canAttach = useChatStore((s) => s.features.has('files'));
  const files = useChatStore((s) => s.tray.get(peer)?.length ?? 0);
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const pickerRef = useRef<HTMLInputElement>(null);

  // Choosing reply or edit in the message menu puts the focus here.
  useEffect(() => {
    if (mode) inputRef.current?.focus();
  }, [mode]);

  const left = LIMITS.bodyMaxLength - text.length;
  const over = left < 0;
  // With files the text is an optional caption.
  const empty = text.trim().length === 0 && files === 0;
  const editing = mode?.kind === 'edit';

  if (blocked) {
    return (
      <div className="composer is-blocked">
        <p>{t('blockedNotice', { user: peer })}</p>
        <button type="button" className="primary small" onClick={() => void unblock(peer)}>
          {t('unblock')}
        </button>
      </div>
    );
  }

  function submit(e?: FormEvent) {
    e?.preventDefault();
    if (empty || over) return;
    if (files > 0 && !editing) void sendTray(peer, text);
    else send(peer, text);
    inputRef.current?.focus();
  }

  /** A pasted image (a screenshot) joins the tray instead of going into the text. */
  function onPaste(e: ClipboardEvent<HTMLTextAreaElement>) {
    if (!canAttach || editing) return;
    const pasted = [...e.clipboardData.files];
    if (pasted.length === 0) return;
    e.preventDefault();
    addFiles(peer, pasted);
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    // Enter while an input method is composing (e.g. pinyin) picks a candidate; it must not send.
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      submit();
    } else if (e.key === 'Escape' && mode && !e.nativeEvent.isComposing) {
      // Leaves the reply or the edit, not the conversation.
      e.preventDefault();
      cancelCompose(peer);
    }
  }

  return (
    <form className="composer" onSubmit={submit}>
      <ComposeBar peer={peer} />
      {!editing && <AttachmentTray peer={peer} />}
      {canAttach && !editing && (
        <>
          <button
            type="button"
            className="icon-button attach-button"
            aria-label={t('attachFiles')}
            onClick={() => pickerRef.current?.click()}
          >
            <span aria-hidden="true">📎</span>
          </button>
          <input
            ref={pickerRef}
            type="file"
            multiple
            hidden
            data-testid="file-picker"
            onChange={(e) => {
              addFiles(peer, [...(e.target.files ?? [])]);
              // The same file may be picked again later.
              e.target.value = '';
              inputRef.current?.focus();
            }}
          />
        </>
      )}
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
        placeholder={files > 0 && !editing ? t('captionPlaceholder') : t('composerPlaceholder')}
        onChange={(e) => {
          setDraft(peer, e.target.value);
          if (e.target.value.length > 0 && mode?.kind !== 'edit') notifyTyping(peer);
        }}
        onKeyDown={onKeyDown}
        onPaste={onPaste}
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
        {editing ? t('save') : t('send')}
      </button>
    </form>
  );
}
