import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './components/app';
import { registerServiceWorker } from './lib/service-worker';
import { loadPreferences } from './store/saved-state';
import { boot } from './store/startup';
import './styles/app.css';
import './styles/shell.css';
import './styles/chat-pane.css';
import './styles/dialogs.css';

// The chosen theme before the first render, so a dark choice does not flash light.
const { theme } = loadPreferences();
if (theme !== 'system') document.documentElement.dataset.theme = theme;

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
void boot();
registerServiceWorker();
