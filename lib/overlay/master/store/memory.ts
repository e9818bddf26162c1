// No persistence: upstream's behaviour without `replicated_log_dir` (state lost on restart).
import type { Store, StoreChange, StoreHooks } from './types.js';

export class MemoryStore implements Store {
  readonly kind = 'memory' as const;
  readonly location = 'memory (nothing survives a restart)';

  async start(hooks: StoreHooks): Promise<void> {
    hooks.lead([], []);
  }

  async commit(_changes: StoreChange[]): Promise<void> {}

  async close(): Promise<void> {}
}
