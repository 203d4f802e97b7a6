import { RateLimiter } from '../../src/auth/rate-limiter.js';
import { MemoryPresence } from '../../src/router/memory-presence.js';
import { MemoryRouter } from '../../src/router/memory-router.js';
import { describeLiveContract } from './contract.js';
import type { LiveNode } from './harness.js';

// One process is one node: the same parts stand for every node of the contract.
describeLiveContract('in-process', async ({ nodes, rate }) => {
  const node: LiveNode = {
    router: new MemoryRouter(),
    presence: new MemoryPresence(),
    sendLimiter: new RateLimiter(rate * 2, rate),
  };
  return {
    nodes: Array.from({ length: nodes }, () => node),
    async destroy() {
      await node.router.close();
      await node.presence.close();
    },
  };
});
