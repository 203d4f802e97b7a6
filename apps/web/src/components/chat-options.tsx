import { type KeyboardEvent, useEffect, useRef, useState } from 'react';
import { useT } from '../i18n/use-strings';
import { useChatStore } from '../store/chat-store';
import { featureActions } from '../store/feature-actions';
import { block, unblock } from '../store/feature-requests';

/** Asked before blocking (a native modal <dialog>): what blocking does, and that they are not told. */
function BlockDialog({ peer, onClose }: { peer: string; onClose: () => void }) {
  const t = useT();
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  return (
    <dialog ref={ref} className="dialog" aria-labelledby="block-title" onClose={onClose}>
      <h2 id="block-title">{t('blockTitle', { user: peer })}</h2>
      <p className="field-hint">{t('blockHint')}</p>
      <div className="dialog-actions">
        <button
          type="button"
          className="primary danger"
          onClick={() => {
            ref.current?.close();
            void block(peer);
          }}
        >
          {t('block')}
        </button>
        <button type="button" className="quiet-button" onClick={() => ref.current?.close()}>
          {t('cancel')}
        </button>
      </div>
    </dialog>
  );
}

/**
 * The chat's own menu in its header: search in this conversation, block or unblock the
 * other person; each only when the server enabled its feature.
 */
export function ChatOptions({ peer }: { peer: string }) {
  const t = useT();
  const me = useChatStore((s) => s.me);
  const canSearch = useChatStore((s) => s.features.has('search'));
  const canBlock = useChatStore((s) => s.features.has('block')) && peer !== me;
  const blocked = useChatStore((s) => s.blocked?.includes(peer) === true);
  const [open, setOpen] = useState(false);
  const [asking, setAsking] = useState(false);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const menuRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    menuRef.current?.querySelector<HTMLElement>('[role="menuitem"]')?.focus();
    const outside = (e: PointerEvent) => {
      const target = e.target as Node;
      if (!menuRef.current?.contains(target) && !buttonRef.current?.contains(target)) setOpen(false);
    };
    document.addEventListener('pointerdown', outside, true);
    return () => document.removeEventListener('pointerdown', outside, true);
  }, [open]);

  if (!canSearch && !canBlock) return null;

  function onKeyDown(e: KeyboardEvent<HTMLDivElement>) {
    const items = [...(menuRef.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];
    const at = items.indexOf(document.activeElement as HTMLElement);
    if (e.key === 'ArrowDown') items[(at + 1) % items.length]?.focus();
    else if (e.key === 'ArrowUp') items[(at - 1 + items.length) % items.length]?.focus();
    else if (e.key === 'Escape' || e.key === 'Tab') {
      setOpen(false);
      buttonRef.current?.focus();
    } else return;
    e.preventDefault();
    e.stopPropagation();
  }

  const act = (fn: () => void) => () => {
    setOpen(false);
    fn();
  };

  return (
    <div className="chat-options">
      <button
        ref={buttonRef}
        type="button"
        className="icon-button"
        aria-label={t('chatOptions')}
        aria-haspopup="menu"
        aria-expanded={open}
        onClick={() => setOpen((o) => !o)}
      >
        <span aria-hidden="true">⋮</span>
      </button>
      {open && (
        <div
          ref={menuRef}
          className="chat-options-menu"
          role="menu"
          aria-label={t('chatOptions')}
          onKeyDown={onKeyDown}
        >
          {canSearch && (
            <button
              type="button"
              role="menuitem"
              tabIndex={-1}
              onClick={act(() => featureActions.openSearch(peer))}
            >
              {t('searchInChat')}
            </button>
          )}
          {canBlock &&
            (blocked ? (
              <button type="button" role="menuitem" tabIndex={-1} onClick={act(() => void unblock(peer))}>
                {t('unblockUser', { user: peer })}
              </button>
            ) : (
              <button
                type="button"
                role="menuitem"
                tabIndex={-1}
                className="is-danger"
                onClick={act(() => setAsking(true))}
              >
                {t('blockUser', { user: peer })}
              </button>
            ))}
        </div>
      )}
      {asking && <BlockDialog peer={peer} onClose={() => setAsking(false)} />}
    </div>
  );
}
