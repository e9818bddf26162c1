// Reading only the chains a container's rules live in (`iptables -w -t nat -S CHAIN`, one exec per
// chain, in parallel): on nf_tables a whole-table iptables-save costs ~7 ms more per 1000 rules
// anywhere in the table here, a chain's listing ~2.4 ms plus ~20-35 µs per rule of that chain
// only. `-S` prints rules exactly as iptables-save does, so the save parser reads it.
import { execInNetns, type Netns } from '../../netns/index.js';
import { IptablesError, parseSave, type SavedTable } from '../../iptables/index.js';

const WAIT_SECONDS = '5'; // legacy iptables takes the xtables lock even to list
// A missing chain: legacy says the first, iptables-nft the second.
const ABSENT = /No chain\/target\/match by that name|in table `nat' is incompatible/;

/** One chain as iptables-save text lines (`:NAME [POLICY] [0:0]`, `-A ...`), or [] when absent. */
async function listChain(host: Netns, family: 4 | 6, chain: string): Promise<string[]> {
  const bin = family === 6 ? 'ip6tables' : 'iptables';
  const r = await execInNetns(host, bin, ['-w', WAIT_SECONDS, '-t', 'nat', '-S', chain], { check: false });
  if (r.status !== 0 || r.timedOut) {
    if (!r.timedOut && ABSENT.test(r.stderr)) return [];
    throw IptablesError.from(`${bin} -S ${chain}`, 'nat', r);
  }
  return r.stdout.split('\n').flatMap((l) => {
    if (l.startsWith('-N ')) return [`:${l.slice(3).trim()} - [0:0]`];
    if (l.startsWith('-P ')) return [`:${l.slice(3).trim()} [0:0]`];
    return l.startsWith('-A ') ? [l] : [];
  });
}

/** The nat table restricted to `chains` (absent ones simply missing), parsed like a save. */
export async function readChains(host: Netns, family: 4 | 6, chains: readonly string[]): Promise<SavedTable> {
  const lines = await Promise.all(chains.map((c) => listChain(host, family, c)));
  return parseSave(['*nat', ...lines.flat(), 'COMMIT', ''].join('\n'), 'nat');
}
