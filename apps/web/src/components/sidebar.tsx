import { useEffect, useRef } from 'react';
import { useT } from '../i18n/use-strings';
import { useChatStore } from '../store/chat-store';
import { featureActions } from '../store/feature-actions';
import { ConversationList } from './conversation-list';
import { NewChatForm } from './new-chat-form';
import { SearchPanel } from './search-panel';

export function Sidebar() {
  const t = useT();
  const navRef = useRef<HTMLElement>(null);
  const canSearch = useChatStore((s) => s.features.has('search'));
  const searching = useChatStore((s) => s.search.open);

  // After sign-in (or coming back from Settings) nothing is focused: put the focus where the
  // user goes next, the newest conversation, or the new-chat field when there is none (on a
  // phone the list's heading instead, so that no keyboard pops up unasked).
  useEffect(() => {
    const nav = navRef.current;
    if (!nav || useChatStore.getState().activePeer !== null) return;
    if (document.activeElement && document.activeElement !== document.body) return;
    const row = nav.querySelector<HTMLButtonElement>('button.conversation');
    if (row) row.focus();
    else if (matchMedia('(max-width: 640px)').matches) nav.querySelector<HTMLElement>('h2')?.focus();
    else nav.querySelector<HTMLInputElement>('.new-chat input')?.focus();
  }, []);

  return (
    <nav className="sidebar" aria-label={t('conversations')} ref={navRef}>
      <h2 className="sr-only" tabIndex={-1}>
        {t('conversations')}
      </h2>
      {canSearch && searching ? (
        <SearchPanel />
      ) : (
        <>
          <NewChatForm />
          {canSearch && (
            <button type="button" className="search-open" onClick={() => featureActions.openSearch(null)}>
              <span aria-hidden="true">⌕ </span>
              {t('searchLabel')}
            </button>
          )}
          <ConversationList />
        </>
      )}
    </nav>
  );
}
