import { createNodeClient } from '../node/create-node-client.js';
import { DEFAULTS } from '../options.js';
import { parseStoredSession } from '../stored-shapes.js';
import { CliError, describeError } from './cli-error.js';
import { readConfig, removeConfig, writeConfig } from './config-file.js';
import type { CliContext } from './context.js';
import { ExitCode } from './exit-codes.js';
import { promptHidden } from './prompt.js';

// Commands about the session: register, login, logout, password.

const SESSION_KEY = `${DEFAULTS.storagePrefix}session`;

export async function signIn(
  ctx: CliContext,
  command: 'register' | 'login',
  args: string[],
): Promise<number> {
  ctx.noMore(args);
  const { io, values } = ctx;
  const saved = readConfig(ctx.cfgPath);
  const server = values.server ?? io.env.PIGEON_SERVER ?? saved?.server;
  const user = values.user ?? saved?.user;
  if (!server) throw new CliError(ExitCode.usage, '--server URL is required');
  if (!user) throw new CliError(ExitCode.usage, '--user ID is required');
  const password = io.env.PIGEON_PASSWORD ?? (await promptHidden('Password: ', io.stdin, io.stderr));
  const c = createNodeClient({ server, storage: ctx.state, requestTimeoutMs: ctx.timeoutMs });
  const session = command === 'register' ? await c.register(user, password) : await c.login(user, password);
  writeConfig(ctx.cfgPath, { server, user: session.user, token: session.token });
  ctx.out(`${command === 'register' ? 'Registered' : 'Logged in'} as ${session.user} on ${server}`);
  return ExitCode.ok;
}

export async function logout(ctx: CliContext, args: string[]): Promise<number> {
  ctx.noMore(args);
  const { values } = ctx;
  // The token is revoked on the server first (unless --local): a copy of the config
  // elsewhere must stop working too. If that fails, the session is kept, and said so.
  if (readConfig(ctx.cfgPath) && !values.local) {
    const c = await ctx.session(false);
    await c.logout({ revoke: values.everywhere ? 'everywhere' : 'session' }).catch((err: unknown) => {
      const { exitCode, message } = describeError(err);
      const hint = 'the session is kept; `pigeon logout --local` forgets it here anyway';
      throw new CliError(exitCode, `could not revoke the session: ${message}; ${hint}`);
    });
  }
  removeConfig(ctx.cfgPath);
  ctx.out(values.everywhere ? 'Logged out on every device' : 'Logged out');
  return ExitCode.ok;
}

export async function password(ctx: CliContext, args: string[]): Promise<number> {
  ctx.noMore(args);
  const { io } = ctx;
  const c = await ctx.session(false);
  const current = io.env.PIGEON_PASSWORD ?? (await promptHidden('Current password: ', io.stdin, io.stderr));
  const next = io.env.PIGEON_NEW_PASSWORD ?? (await promptHidden('New password: ', io.stdin, io.stderr));
  await c.changePassword(current, next);
  // The client saved the fresh token in its state; the config gets it too.
  const fresh = parseStoredSession(await ctx.state.get(SESSION_KEY));
  const cfg = readConfig(ctx.cfgPath);
  if (!fresh || !cfg) throw new CliError(ExitCode.internal, 'the new session could not be saved');
  writeConfig(ctx.cfgPath, { ...cfg, token: fresh.token });
  ctx.out('Password changed; other devices are signed out');
  return ExitCode.ok;
}
