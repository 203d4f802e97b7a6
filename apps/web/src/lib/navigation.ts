/**
 * Where the user is lives in the URL hash: `#/c/<peer>` for an open conversation,
 * `#/settings` for the Settings page. A reload reopens it and the browser's back button
 * leaves it, which on a phone is what people expect.
 */
const PREFIX = '#/c/';
const SETTINGS = '#/settings';
let pushedHere = false;

export type Route = { kind: 'chats'; peer: string | null } | { kind: 'settings' };

function peerFromHash(hash: string = location.hash): string | null {
  if (!hash.startsWith(PREFIX)) return null;
  try {
    const peer = decodeURIComponent(hash.slice(PREFIX.length));
    return peer.length > 0 ? peer : null;
  } catch {
    return null;
  }
}

export function routeFromHash(hash: string = location.hash): Route {
  if (hash === SETTINGS) return { kind: 'settings' };
  return { kind: 'chats', peer: peerFromHash(hash) };
}

function go(target: string): void {
  if (location.hash === target || (target === '' && location.hash === '')) return;
  if (target === '') {
    // Leaving a page we opened in this tab: step back instead of piling up entries.
    if (pushedHere) {
      pushedHere = false;
      history.back();
      return;
    }
    history.replaceState(null, '', `${location.pathname}${location.search}`);
    dispatchEvent(new HashChangeEvent('hashchange'));
    return;
  }
  if (location.hash !== '' && location.hash !== '#') {
    history.replaceState(null, '', target);
    dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    pushedHere = true;
    location.hash = target;
  }
}

/** Opens a conversation, or with null goes back to the list. */
export function navigateTo(peer: string | null): void {
  go(peer === null ? '' : `${PREFIX}${encodeURIComponent(peer)}`);
}

export function openSettings(): void {
  go(SETTINGS);
}

export function closeSettings(): void {
  if (location.hash === SETTINGS) go('');
}

export function onNavigate(listener: (route: Route) => void): () => void {
  const handler = () => listener(routeFromHash());
  addEventListener('hashchange', handler);
  return () => removeEventListener('hashchange', handler);
}
