// The bridge's masquerade rules through the backend the config picks (ipMasqBackend): iptables (the
// reference's chain per attachment, shared/masq.ts) or nftables (shared/masq-nft.ts). Unset, it is
// iptables unless only nft is installed, as the reference decides. GC looks at both.
import type { Netns } from '../../netns/netns.js';
import { which } from '../../netns/index.js';
import { installed as nftInstalled } from '../shared/nft.js';
import { collectMasq, missingMasq, setupMasq, teardownMasq } from '../shared/masq.js';
import { collectMasqNft, missingMasqNft, setupMasqNft, teardownMasqNft } from '../shared/masq-nft.js';
import type { BridgeConfig, MasqBackend } from './config.js';

export interface Attachment {
  network: string;
  containerId: string;
  ifname: string;
}

const installed = (bin: string) => (bin === 'nft' ? nftInstalled() : which(bin).then(() => true, () => false));

/** The backend of `cfg`: its ipMasqBackend, else iptables unless only nft is installed (a PATH lookup, no process). */
export async function backendOf(cfg: BridgeConfig): Promise<MasqBackend> {
  if (cfg.ipMasqBackend) return cfg.ipMasqBackend;
  if (await installed('iptables-restore')) return 'iptables';
  return (await installed('nft')) ? 'nftables' : 'iptables';
}

/** Whether the backend's tool is installed (STATUS). */
export async function backendInstalled(backend: MasqBackend): Promise<boolean> {
  return installed(backend === 'iptables' ? 'iptables-restore' : 'nft');
}

/** Install the rules; `after`: write nothing before it settles (restore's), its rejection thrown. */
export async function setup(host: Netns, backend: MasqBackend, a: Attachment, addresses: readonly string[], after?: PromiseLike<unknown>): Promise<void> {
  if (backend === 'nftables') await setupMasqNft(host, a, addresses, after);
  else await setupMasq(host, a, addresses, after);
}

/**
 * Remove the attachment's rules in the config's backend (one transaction; DEL adds no look at the
 * other backend: a network whose backend was switched under attached containers leaves their old
 * rules to GC, which looks at both).
 */
export async function teardown(host: Netns, backend: MasqBackend, a: Attachment, addresses?: readonly string[]): Promise<void> {
  if (backend === 'nftables') await teardownMasqNft(host, a);
  else await teardownMasq(host, a, addresses);
}

/** A description of each missing rule (CHECK). */
export async function missing(host: Netns, backend: MasqBackend, a: Attachment, addresses: readonly string[]): Promise<string[]> {
  if (backend === 'nftables') return (await missingMasqNft(host, a, addresses)).map((ip) => `nftables masquerade rule for ${ip}`);
  return (await missingMasq(host, a, addresses)).map((r) => `iptables rule in chain ${r.chain}`);
}

/** GC of both backends (whichever is installed): the network's rules of attachments not kept. */
export async function collect(host: Netns, network: string, keep: (containerId: string, ifname: string) => boolean, validIds: readonly string[]): Promise<number> {
  let n = 0;
  if (await installed('iptables-restore')) n += (await collectMasq(host, network, validIds)).length;
  if (await installed('nft')) n += await collectMasqNft(host, network, keep);
  return n;
}
