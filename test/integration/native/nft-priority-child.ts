// Run by nft-priority.test.ts, possibly without CAP_SYS_NICE: list over nf_tables (the listing
// lowers its worker's priority for the time it runs), then spawn a child, ten times; print whether
// this process may raise a priority and each child's nice value.
import { readFileSync } from 'node:fs';
import { native, NETLINK_NETFILTER } from '../../../lib/native/index.js';
import * as netns from '../../../lib/netns/index.js';

const CAP_SYS_NICE = 23n;
const capEff = BigInt('0x' + /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]!);
const ns = await netns.open(process.argv[2]!);
const h = await native.netlinkOpen(ns.fd, NETLINK_NETFILTER);
const nice: number[] = [];
for (let i = 0; i < 10; i++) {
  await native.nftList(h, { family: 4, table: 'filter', chains: ['INPUT'] }).catch(() => undefined); // a fresh netns may have no table
  const stat = (await netns.execInNetns(ns, 'cat', ['/proc/self/stat'])).stdout;
  nice.push(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])); // field 19, counting from 1
}
native.netlinkClose(h);
ns.close();
console.log(JSON.stringify({ sysNice: ((capEff >> CAP_SYS_NICE) & 1n) === 1n, nice }));
