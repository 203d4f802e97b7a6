/**
 * The chat screen (with the virtualized log) is its own chunk: the sign-in page does not
 * need it, and after sign-in it loads while the socket connects. This keeps the JavaScript
 * of the first visit small (see scripts/bundle-size.mjs). The sign-in page fetches it ahead
 * while the user types, so signing in shows the chat at once.
 */
export const loadChatScreen = () => import('./chat-screen');
