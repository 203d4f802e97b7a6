import { type KeyboardEvent, useEffect, useLayoutEffect, useRef } from 'react';
import { DEFAULTS } from '../config';
import { useT } from '../i18n/use-strings';
import { useChatStore } from '../store/chat-store';
import { canChange, copyText, startEdit, startReply, toggleReaction } from '../store/feature-requests';
import type { ChatMessage } from '../store/message-model';

export interface MenuTarget {
  message: ChatMessage;
  /** What opened it (the "⋯" button): the menu sits next to it and the focus returns to it. */
  anchor: HTMLElement;
}

const ITEMS = '[role="menuitem"], [role="menuitemradio"]';

/**
 * The message menu (WAI-ARIA menu pattern): quick reactions, reply, edit, delete, copy, each
 * offered only when the server enabled its feature and it can work for this message. Opened
 * by the "⋯" button (hover or keyboard), a long press or a right click; the arrow keys move
 * between items, Escape or Tab close it and the focus goes back to the button.
 */
export function MessageMenu({
  target,
  peer,
  onClose,
  onDelete,
}: {
  target: MenuTarget;
  peer: string;
  onClose: (refocus: boolean) => void;
  onDelete: (m: ChatMessage) => void;
}) {
  const t = useT();
  const ref = useRef<HTMLDivElement>(null);
  const me = useChatStore((s) => s.me);
  const features = useChatStore((s) => s.features);
  const m = target.message;

  const stored = m.confirmed && !m.deleted;
  const mine = m.reactions?.find((r) => r.by === me)?.emoji ?? null;
  const canReact = features.has('react') && stored;
  const canReply = features.has('reply') && stored;
  const canEdit = features.has('edit') && !m.deleted && canChange(m, me);
  const canDelete = features.has('edit') && (m.confirmed || canChange(m, me));
  const canCopy = !m.deleted && m.body.length > 0;

  // Next to the button, inside the window: below it if there is room, else above. Placed
  // through the CSSOM before the first paint (it is measured first, hidden), then focused:
  // a hidden element cannot take the focus.
  useLayoutEffect(() => {
    const menu = ref.current;
    if (!menu) return;
    const a = target.anchor.getBoundingClientRect();
    const w = menu.offsetWidth;
    const h = menu.offsetHeight;
    const below = a.bottom + 4 + h <= innerHeight;
    menu.style.top = `${below ? a.bottom + 4 : Math.max(4, a.top - 4 - h)}px`;
    menu.style.left = `${Math.min(Math.max(4, a.right - w), innerWidth - w - 4)}px`;
    menu.style.visibility = 'visible';
    menu.querySelector<HTMLElement>(ITEMS)?.focus();
  }, [target.anchor]);

  useEffect(() => {
    // A press anywhere else closes it (the focus stays where that press puts it).
    const outside = (e: PointerEvent) => {
      if (!ref.current?.contains(e.target as Node) && !target.anchor.contains(e.target as Node))
        onClose(false);
    };
    document.addEventListener('pointerdown', outside, true);
    return () => document.removeEventListener('pointerdown', outside, true);
  }, [onClose, target.anchor]);

  function onKeyDown(e: KeyboardEvent<HTMLDivElement>) {
    const items = [...(ref.current?.querySelectorAll<HTMLElement>(ITEMS) ?? [])];
    const at = items.indexOf(document.activeElement as HTMLElement);
    const go = (i: number) => items[(i + items.length) % items.length]?.focus();
    switch (e.key) {
      case 'ArrowDown':
      case 'ArrowRight':
        go(at + 1);
        break;
      case 'ArrowUp':
      case 'ArrowLeft':
        go(at - 1);
        break;
      case 'Home':
        go(0);
        break;
      case 'End':
        go(items.length - 1);
        break;
      case 'Escape':
        onClose(true);
        break;
      case 'Tab':
        onClose(true);
        break;
      default:
        return;
    }
    e.preventDefault();
    e.stopPropagation();
  }

  const act = (fn: () => void) => () => {
    onClose(false);
    fn();
  };

  return (
    <div
      ref={ref}
      className="message-menu"
      role="menu"
      aria-label={t('messageActions')}
      tabIndex={-1}
      onKeyDown={onKeyDown}
    >
      {canReact && (
        // biome-ignore lint/a11y/useSemanticElements: inside role="menu" a group of menu items is role="group" (a fieldset is not allowed there)
        <div className="menu-reactions" role="group" aria-label={t('menuReact')}>
          {DEFAULTS.quickReactions.map((emoji) => (
            <button
              key={emoji}
              type="button"
              role="menuitemradio"
              aria-checked={mine === emoji}
              aria-label={mine === emoji ? t('removeReaction', { emoji }) : t('reactWith', { emoji })}
              className={`menu-emoji${mine === emoji ? ' is-mine' : ''}`}
              tabIndex={-1}
              onClick={act(() => void toggleReaction(m, emoji))}
            >
              <span aria-hidden="true">{emoji}</span>
            </button>
          ))}
        </div>
      )}
      {canReply && (
        <button type="button" role="menuitem" tabIndex={-1} onClick={act(() => startReply(peer, m))}>
          {t('menuReply')}
        </button>
      )}
      {canEdit && (
        <button type="button" role="menuitem" tabIndex={-1} onClick={act(() => startEdit(peer, m))}>
          {t('menuEdit')}
        </button>
      )}
      {canCopy && (
        <button type="button" role="menuitem" tabIndex={-1} onClick={act(() => void copyText(m.body))}>
          {t('menuCopy')}
        </button>
      )}
      {canDelete && (
        <button
          type="button"
          role="menuitem"
          tabIndex={-1}
          className="is-danger"
          onClick={act(() => onDelete(m))}
        >
          {t('menuDelete')}
        </button>
      )}
    </div>
  );
}
