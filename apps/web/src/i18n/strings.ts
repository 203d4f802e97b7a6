/**
 * Every user-visible string of the app, in every language it speaks. Components never
 * hold literal text: they look it up here, so a translation is complete when this file is.
 */
export const LANGUAGES = ['en', 'zh'] as const;
export type Language = (typeof LANGUAGES)[number];

const en = {
  appName: 'Pigeon',
  languageName: 'English',
  languageLabel: 'Language',
  // sign in
  signInTitle: 'Sign in to Pigeon',
  registerTitle: 'Create your Pigeon account',
  tagline: 'Private one-to-one chat that never loses a message.',
  userIdLabel: 'User id',
  userIdHint: '1–32 characters: a–z, 0–9, _ . -',
  passwordLabel: 'Password',
  passwordHint: 'At least {min} characters.',
  signIn: 'Sign in',
  register: 'Create account',
  signingIn: 'Signing in…',
  registering: 'Creating account…',
  switchToRegister: 'New here? Create an account',
  switchToSignIn: 'Already have an account? Sign in',
  err_invalid_user: 'That user id is not allowed. Use 1–32 characters: a–z, 0–9, _ . -',
  err_weak_password: 'The password must be {min}–{max} characters long.',
  err_user_taken: 'That user id is taken. Pick another one, or sign in if it is yours.',
  err_bad_credentials: 'Wrong user id or password.',
  err_rate_limited: 'Too many attempts. Try again in {seconds} s.',
  err_rate_limited_soon: 'Too many attempts. Try again in a moment.',
  err_network: 'Cannot reach the server. Check your connection and try again.',
  err_unknown: 'Something went wrong ({code}). Try again.',
  err_required: 'Enter your user id and password.',
  sessionExpired: 'Your session has ended. Please sign in again.',
  // header
  signedInAs: 'Signed in as {user}',
  signOut: 'Sign out',
  status_connecting: 'Connecting…',
  status_syncing: 'Syncing…',
  status_online: 'Online',
  status_reconnecting: 'Reconnecting in {seconds} s',
  status_reconnecting_now: 'Reconnecting…',
  status_offline: 'Offline',
  status_unauthorized: 'Signed out',
  connectionStatus: 'Connection status',
  // sidebar
  conversations: 'Conversations',
  newChatLabel: 'New chat: recipient user id',
  newChatPlaceholder: 'Start a chat with…',
  newChatButton: 'Chat',
  newChatInvalid: '“{user}” is not a valid user id.',
  newChatNoSuchUser: 'There is no user “{user}”.',
  newChatOffline: 'You are offline; try again when connected.',
  newChatChecking: 'Looking up…',
  noConversations: 'No conversations yet. Type a user id above to start one.',
  unreadCount: '{count} unread',
  online: 'online',
  youPrefix: 'You: ',
  noteToSelf: '{user} (you)',
  // chat
  backToList: 'Back to conversations',
  pickConversation: 'Pick a conversation or start a new one.',
  messagesWith: 'Messages with {user}',
  loadingOlder: 'Loading earlier messages…',
  beginning: 'This is the beginning of your conversation with {user}.',
  loadOlderFailed: 'Could not load earlier messages.',
  retry: 'Retry',
  discard: 'Discard',
  typing: '{user} is typing…',
  today: 'Today',
  yesterday: 'Yesterday',
  state_sending: 'Sending',
  state_sent: 'Sent',
  state_delivered: 'Delivered',
  state_failed: 'Not sent',
  failed_too_large: 'Not sent: the message is too long.',
  failed_no_such_user: 'Not sent: this user does not exist.',
  failed_rate_limited: 'Not sent: you are sending too fast.',
  failed_other: 'Not sent ({code}).',
  messageFromYou: 'You, {time}',
  messageFrom: '{user}, {time}',
  jumpToLatest: 'Jump to latest messages',
  // composer
  composerLabel: 'Message to {user}',
  composerPlaceholder: 'Write a message',
  send: 'Send',
  charsLeft: '{count} characters left',
  charsOver: '{count} characters over the limit',
  sendHint: 'Enter to send, Shift+Enter for a new line',
  // title
  titleUnread: '({count}) Pigeon',
} as const;

export type StringKey = keyof typeof en;
export type Strings = Record<StringKey, string>;

const zh: Strings = {
  appName: 'Pigeon 信鸽',
  languageName: '简体中文',
  languageLabel: '语言',
  signInTitle: '登录 Pigeon',
  registerTitle: '创建 Pigeon 账号',
  tagline: '不丢消息的私密一对一聊天。',
  userIdLabel: '用户名',
  userIdHint: '1–32 个字符：a–z、0–9、_ . -',
  passwordLabel: '密码',
  passwordHint: '至少 {min} 个字符。',
  signIn: '登录',
  register: '创建账号',
  signingIn: '正在登录…',
  registering: '正在创建账号…',
  switchToRegister: '第一次使用？创建账号',
  switchToSignIn: '已有账号？登录',
  err_invalid_user: '这个用户名不可用。请使用 1–32 个字符：a–z、0–9、_ . -',
  err_weak_password: '密码长度必须为 {min}–{max} 个字符。',
  err_user_taken: '这个用户名已被占用。请换一个；如果是你的账号，请直接登录。',
  err_bad_credentials: '用户名或密码错误。',
  err_rate_limited: '尝试次数过多，请 {seconds} 秒后再试。',
  err_rate_limited_soon: '尝试次数过多，请稍后再试。',
  err_network: '无法连接服务器。请检查网络后重试。',
  err_unknown: '出了点问题（{code}）。请重试。',
  err_required: '请输入用户名和密码。',
  sessionExpired: '登录已失效，请重新登录。',
  signedInAs: '当前用户：{user}',
  signOut: '退出登录',
  status_connecting: '正在连接…',
  status_syncing: '正在同步…',
  status_online: '在线',
  status_reconnecting: '{seconds} 秒后重新连接',
  status_reconnecting_now: '正在重新连接…',
  status_offline: '离线',
  status_unauthorized: '已退出',
  connectionStatus: '连接状态',
  conversations: '会话',
  newChatLabel: '新聊天：对方用户名',
  newChatPlaceholder: '与谁聊天…',
  newChatButton: '聊天',
  newChatInvalid: '“{user}”不是有效的用户名。',
  newChatNoSuchUser: '用户“{user}”不存在。',
  newChatOffline: '当前离线，请连接后重试。',
  newChatChecking: '正在查找…',
  noConversations: '还没有会话。在上方输入用户名开始聊天。',
  unreadCount: '{count} 条未读',
  online: '在线',
  youPrefix: '我：',
  noteToSelf: '{user}（我）',
  backToList: '返回会话列表',
  pickConversation: '选择一个会话，或开始新的聊天。',
  messagesWith: '与 {user} 的消息',
  loadingOlder: '正在加载更早的消息…',
  beginning: '这是你与 {user} 的对话的开始。',
  loadOlderFailed: '无法加载更早的消息。',
  retry: '重试',
  discard: '放弃',
  typing: '{user} 正在输入…',
  today: '今天',
  yesterday: '昨天',
  state_sending: '发送中',
  state_sent: '已发送',
  state_delivered: '已送达',
  state_failed: '未发送',
  failed_too_large: '未发送：消息太长。',
  failed_no_such_user: '未发送：该用户不存在。',
  failed_rate_limited: '未发送：发送太快了。',
  failed_other: '未发送（{code}）。',
  messageFromYou: '我，{time}',
  messageFrom: '{user}，{time}',
  jumpToLatest: '跳到最新消息',
  composerLabel: '发给 {user} 的消息',
  composerPlaceholder: '输入消息',
  send: '发送',
  charsLeft: '还可输入 {count} 个字符',
  charsOver: '超出 {count} 个字符',
  sendHint: '按 Enter 发送，Shift+Enter 换行',
  titleUnread: '({count}) Pigeon 信鸽',
};

export const STRINGS: Record<Language, Strings> = { en, zh };

/** BCP 47 tags used for `<html lang>` and for Intl date formatting. */
export const LOCALE_TAGS: Record<Language, string> = { en: 'en', zh: 'zh-CN' };

/** Fills `{name}` placeholders; values are plain text, never markup. */
export function format(template: string, params?: Record<string, string | number>): string {
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.hasOwn(params, name) ? String(params[name]) : whole,
  );
}

/** The first of the browser's preferred languages that we speak; English otherwise. */
export function pickLanguage(preferred: readonly string[]): Language {
  for (const tag of preferred) {
    const base = tag.toLowerCase().split('-')[0];
    if (base === 'zh') return 'zh';
    if (base === 'en') return 'en';
  }
  return 'en';
}
