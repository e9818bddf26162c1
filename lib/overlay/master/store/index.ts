// Picks the store the config names. The ZooKeeper client is loaded only when it is used.
import type { MasterConfig } from '../config.js';
import type { Logger } from 'pino';
import { EmbeddedStore } from './embedded.js';
import { MemoryStore } from './memory.js';
import type { Store } from './types.js';

export async function createStore(cfg: MasterConfig, log: Logger): Promise<Store> {
  const s = cfg.store;
  if (s.kind === 'memory') return new MemoryStore();
  if (s.kind === 'embedded') return new EmbeddedStore(s.dir);
  const { ZkStore } = await import('./zookeeper.js');
  return new ZkStore(s.zk, cfg.advertise, cfg.storeTimeoutMs, log);
}
