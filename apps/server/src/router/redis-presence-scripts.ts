import { LuaScript } from './redis-link.js';

/**
 * The presence state in Redis, changed only by these scripts (each runs atomically):
 *
 * - `<p>nodes`       sorted set: node id → the Redis time (ms) its liveness runs out
 * - `<p>nu:<node>`   set: the users a node holds connections of
 * - `<p>pres:<user>` hash: `n:<node>` → 1 per node holding a connection of the user, and
 *                    `v` → the version of the user's last change; kept for
 *                    OFFLINE_KEEP_MS after the user went offline, so versions stay monotonic
 *                    for watchers whose read raced a change
 * - `<p>pver`        counter: versions come from it, so they only grow
 * - `<p>reaped:<node>` marker: the node was declared dead (it re-registers when it beats)
 *
 * A change (the first node of a user joins, the last one leaves) bumps the version and is
 * published as `"<version> <1|0>"` on `<p>pc:<user>`. A node found dead by any node's
 * reaper is removed in slices (its users go offline) and announced as `dead <node>` on
 * `<p>ctl`. Keys are built inside the scripts, so this assumes one Redis (not Redis
 * Cluster: see the README's "next step").
 */

/** ARGV[1] is always the key prefix. */
const COMMON = `
local P = ARGV[1]
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function node_count(k)
  local n = redis.call('HLEN', k)
  if redis.call('HEXISTS', k, 'v') == 1 then n = n - 1 end
  return n
end
local function change(user, online, keep_ms)
  local k = P .. 'pres:' .. user
  local v = redis.call('INCR', P .. 'pver')
  redis.call('HSET', k, 'v', v)
  if online == 1 then redis.call('PERSIST', k) else redis.call('PEXPIRE', k, keep_ms) end
  redis.call('PUBLISH', P .. 'pc:' .. user, v .. ' ' .. online)
end
local function join(node, user)
  local k = P .. 'pres:' .. user
  redis.call('SADD', P .. 'nu:' .. node, user)
  if redis.call('HSETNX', k, 'n:' .. node, '1') == 1 and node_count(k) == 1 then change(user, 1, 0) end
end
local function leave(node, user, keep_ms)
  local k = P .. 'pres:' .. user
  redis.call('SREM', P .. 'nu:' .. node, user)
  if redis.call('HDEL', k, 'n:' .. node) == 1 and node_count(k) == 0 then change(user, 0, keep_ms) end
end
local function drop_slice(node, batch, keep_ms)
  local nu = P .. 'nu:' .. node
  local users = redis.call('SPOP', nu, batch)
  for _, user in ipairs(users) do
    local k = P .. 'pres:' .. user
    if redis.call('HDEL', k, 'n:' .. node) == 1 and node_count(k) == 0 then change(user, 0, keep_ms) end
  end
  if redis.call('SCARD', nu) == 0 then
    redis.call('ZREM', P .. 'nodes', node)
    return 0
  end
  return 1
end
`;

/** ARGV: prefix, node, user… — the node holds connections of these users. */
export const JOIN = new LuaScript(
  'presence_join',
  `${COMMON}
for i = 3, #ARGV do join(ARGV[2], ARGV[i]) end
return 1`,
);

/** ARGV: prefix, node, keep_ms, user… — the node holds no connection of these users any more. */
export const LEAVE = new LuaScript(
  'presence_leave',
  `${COMMON}
for i = 4, #ARGV do leave(ARGV[2], ARGV[i], tonumber(ARGV[3])) end
return 1`,
);

/**
 * ARGV: prefix, node, ttl_ms — the node is alive for ttl_ms more. 1 when Redis knew it as
 * alive; 0 when it did not (first beat, Redis restarted empty, or it was declared dead):
 * the node then registers all its users again.
 */
export const BEAT = new LuaScript(
  'presence_beat',
  `${COMMON}
local node = ARGV[2]
local had = redis.call('ZSCORE', P .. 'nodes', node)
redis.call('ZADD', P .. 'nodes', now_ms() + tonumber(ARGV[3]), node)
local reaped = redis.call('DEL', P .. 'reaped:' .. node)
if had and reaped == 0 then return 1 end
return 0`,
);

/**
 * ARGV: prefix, batch, keep_ms — takes one slice of users of one dead node offline.
 * Returns {node, more} (more = 1 while that node has users left), or 0 when no node is dead.
 */
export const REAP = new LuaScript(
  'presence_reap',
  `${COMMON}
local dead = redis.call('ZRANGEBYSCORE', P .. 'nodes', '-inf', now_ms(), 'LIMIT', 0, 1)
if #dead == 0 then return 0 end
local node = dead[1]
redis.call('SET', P .. 'reaped:' .. node, '1', 'PX', 86400000)
local more = drop_slice(node, tonumber(ARGV[2]), tonumber(ARGV[3]))
if more == 0 then redis.call('PUBLISH', P .. 'ctl', 'dead ' .. node) end
return {node, more}`,
);

/** ARGV: prefix, node, batch, keep_ms — a node shutting down takes a slice of its users offline; 1 while more remain. */
export const DROP = new LuaScript(
  'presence_drop',
  `${COMMON}
return drop_slice(ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]))`,
);

/** ARGV: prefix, user… — returns {online (0/1), version} per user, flat. */
export const READ = new LuaScript(
  'presence_read',
  `${COMMON}
local out = {}
for i = 2, #ARGV do
  local k = P .. 'pres:' .. ARGV[i]
  local v = tonumber(redis.call('HGET', k, 'v') or '0')
  local online = 0
  if node_count(k) > 0 then online = 1 end
  out[#out + 1] = online
  out[#out + 1] = v
end
return out`,
);
