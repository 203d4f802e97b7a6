import { useChatStore } from '../store/chat-store';
import { AppHeader } from './app-header';
import { ChatPane } from './chat-pane';
import { Sidebar } from './sidebar';

/** Two panes side by side; on small screens (≤ 640 px) one at a time (see the CSS). */
export function ChatScreen() {
  const hasActive = useChatStore((s) => s.activePeer !== null);
  return (
    <div className={`chat-screen${hasActive ? ' has-active' : ''}`}>
      <AppHeader />
      <main className="panes">
        <Sidebar />
        <ChatPane />
      </main>
    </div>
  );
}
