import { useEffect } from 'react';
import { closeSettings, navigateTo } from '../lib/navigation';
import { useChatStore } from '../store/chat-store';
import { AppHeader } from './app-header';
import { ChatPane } from './chat-pane';
import '../styles/features.css';
import '../styles/features-panels.css';
import '../styles/files.css';
import { SettingsPage } from './settings-page';
import { Sidebar } from './sidebar';
import { Toast } from './toast';

/**
 * Escape steps back: out of Settings, or out of the open chat. An open dialog handles its
 * own Escape (the native <dialog> cancels), and so does an input method that is composing.
 */
function useEscape() {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape' || e.defaultPrevented || e.isComposing) return;
      if (document.querySelector('dialog[open]')) return;
      const s = useChatStore.getState();
      if (s.view === 'settings') closeSettings();
      else if (s.activePeer !== null) navigateTo(null);
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, []);
}

/** Two panes side by side; on small screens (≤ 640 px) one at a time (see the CSS). */
export function ChatScreen() {
  const hasActive = useChatStore((s) => s.activePeer !== null);
  const view = useChatStore((s) => s.view);
  const searching = useChatStore((s) => s.search.open);
  useEscape();
  return (
    <div className={`chat-screen${hasActive ? ' has-active' : ''}${searching ? ' is-searching' : ''}`}>
      <AppHeader />
      {view === 'settings' ? (
        <SettingsPage />
      ) : (
        <main className="panes">
          <Sidebar />
          <ChatPane />
        </main>
      )}
      <Toast />
    </div>
  );
}
