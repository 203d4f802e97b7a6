/**
 * The open conversation lives in the URL hash (`#/c/<peer>`), so a reload reopens it and
 * the browser's back button leaves it, which on a phone is what people expect.
 */
const PREFIX = '#/c/';
let pushedHere = false;

export function peerFromHash(hash: string = location.hash): string | null {
  if (!hash.startsWith(PREFIX)) return null;
  try {
    const peer = decodeURIComponent(hash.slice(PREFIX.length));
    return peer.length > 0 ? peer : null;
  } catch {
    return null;
  }
}

export function navigateTo(peer: string | null): void {
  const target = peer === null ? '' : `${PREFIX}${encodeURIComponent(peer)}`;
  if (location.hash === target || (target === '' && location.hash === '')) return;
  if (peer === null) {
    // Leaving a conversation we opened in this page: step back instead of piling up entries.
    if (pushedHere) {
      pushedHere = false;
      history.back();
      return;
    }
    history.replaceState(null, '', `${location.pathname}${location.search}`);
    dispatchEvent(new HashChangeEvent('hashchange'));
    return;
  }
  if (peerFromHash() !== null) {
    history.replaceState(null, '', target);
    dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    pushedHere = true;
    location.hash = target;
  }
}

export function onNavigate(listener: (peer: string | null) => void): () => void {
  const handler = () => listener(peerFromHash());
  addEventListener('hashchange', handler);
  return () => removeEventListener('hashchange', handler);
}
