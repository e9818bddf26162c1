// Rules written over nf_tables netlink (lib/iptables/nft-write.ts, native/netlink/nft_write.cc)
// against the same rules written by iptables-nft-restore: equal as `iptables -S` prints them and
// byte for byte as the kernel dumps their expressions; deleted by `iptables -D <spec>`; a batch
// that fails applies nothing; what the encoder does not write stays with iptables-restore.
import type { ExecutionContext } from 'ava';
import { namespaces, NFT, rootTest, type TestNs } from '../../helpers/fixture.js';
import { execInNetns } from '../../../lib/netns/index.js';
import { native, NETLINK_NETFILTER } from '../../../lib/native/index.js';
import * as iptables from '../../../lib/iptables/index.js';
import type { Family, Rule, Transaction } from '../../../lib/iptables/index.js';
import { runRestore } from '../../../lib/iptables/restore.js';
import { ruleShapes, saveText } from './helpers.js';

const backend = 'nft';
const opts = { backend, waitSeconds: 5, timeoutMs: 30_000 } as const;

/** Every rule shape the project writes (and the encoder's edge cases), for one family. */
function shapes(family: Family): { nat: Rule[]; filter: Rule[]; set: string } {
  const v4 = family === 4;
  const set = v4 ? 'overlay' : 'overlay6';
  const nat: Rule[] = [
    ...ruleShapes(family, set),
    // The encoder's edge cases: an sctp source port, both single ports as one load (negated or
    // not), port 0, prefixes that end inside a byte, the longest comment.
    { chain: 'SH', protocol: 'sctp', sport: { not: 7 }, target: { kind: 'RETURN' } },
    { chain: 'SH', inInterface: 'eth0', outInterface: { not: 'veth+' }, source: { not: v4 ? '10.0.0.0/8' : 'fd00::/8' }, destination: v4 ? '10.0.0.1' : 'fd00::1', protocol: 'tcp', sport: { not: 5 }, dport: [6, 7], target: { kind: 'ACCEPT' } },
    { chain: 'SH', protocol: 'tcp', sport: 5, dport: 6, target: { kind: 'ACCEPT' } },
    { chain: 'SH', protocol: 'udp', sport: { not: 5 }, dport: { not: 6 }, target: { kind: 'ACCEPT' } },
    { chain: 'SH', protocol: 'tcp', dport: 0, target: { kind: 'ACCEPT' } },
    { chain: 'SH', source: v4 ? '10.0.0.0/20' : 'fd00::/20', destination: v4 ? '10.9.0.0/23' : 'fd00:1:2::/57', target: { kind: 'ACCEPT' } },
    { chain: 'SH', comment: 'x'.repeat(255), target: { kind: 'RETURN' } },
  ];
  const filter: Rule[] = [
    { chain: 'INPUT', protocol: 'tcp', dport: 22, comment: 'ssh', target: { kind: 'jump', chain: 'FW' } },
    { chain: 'FW', source: v4 ? '192.168.0.0/16' : 'fe80::/10', target: { kind: 'DROP' } },
    { chain: 'FORWARD', ctState: ['INVALID', 'UNTRACKED', 'SNAT'], target: { kind: 'DROP' } },
    { chain: 'OUTPUT', mark: { value: 0xff, mask: 0xf0f0 }, target: { kind: 'ACCEPT' } },
  ];
  return { nat, filter, set };
}

/** The nat transaction: OWN declared, SH shared and created with a jump from OUTPUT, every shape appended. */
const natTx = (family: Family, rules: Rule[]): Transaction => ({
  family,
  table: 'nat',
  own: ['OWN'],
  shared: [{ name: 'SH', onCreate: [{ op: 'append', rule: { chain: 'OUTPUT', destination: { not: family === 4 ? '127.0.0.0/8' : '::1/128' }, addrType: { dst: 'LOCAL' }, target: { kind: 'jump', chain: 'OWN' } } }] }],
  ops: rules.map((rule) => ({ op: 'append', rule })),
});
const filterTx = (family: Family, rules: Rule[]): Transaction => ({ family, table: 'filter', own: ['FW'], ops: rules.map((rule) => ({ op: 'append', rule })) });

/** Two namespaces with the same ipset: `ours` written over netlink, `theirs` by iptables-nft-restore. */
async function both(t: ExecutionContext, family: Family): Promise<{ ours: TestNs; theirs: TestNs; s: ReturnType<typeof shapes> }> {
  const [ours, theirs] = await namespaces(t, 2);
  const s = shapes(family);
  for (const h of [ours!, theirs!]) await execInNetns(h.ns, 'ipset', ['create', s.set, 'hash:net', 'family', family === 4 ? 'inet' : 'inet6']);
  t.is((await iptables.restore(ours!.ns, natTx(family, s.nat), { backend })).attempts, 2, 'a try, then the create');
  await iptables.restore(ours!.ns, filterTx(family, s.filter), { backend });
  for (const [tx, create] of [[natTx(family, s.nat), ['SH']], [filterTx(family, s.filter), []]] as const) {
    await runRestore(theirs!.ns, family, tx.table, iptables.renderPayload(iptables.checkTransaction(tx), create), opts);
  }
  return { ours: ours!, theirs: theirs!, s };
}

/** Each chain's rules as the kernel dumps their expressions. */
async function dump(h: TestNs, family: Family, table: string, chains: string[]): Promise<Record<string, string[]>> {
  const sock = await native.netlinkOpen(h.ns.fd, NETLINK_NETFILTER);
  try {
    const listed = await native.nftList(sock, { family, table, chains, raw: true });
    return Object.fromEntries(listed.map((c) => [c.name, c.rules.map((r) => r.exprs!.toString('hex'))]));
  } finally {
    native.netlinkClose(sock);
  }
}

const NAT_CHAINS = ['SH', 'OWN', 'PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'];
const FILTER_CHAINS = ['FW', 'INPUT', 'FORWARD', 'OUTPUT'];

for (const family of [4, 6] as Family[]) {
  const nft = family === 4 ? 'ip' : 'ip6';
  const ipt = family === 4 ? 'iptables-nft' : 'ip6tables-nft';

  rootTest(`IPv${family}: every rule shape written over netlink reads back in iptables -S exactly as iptables-restore's`, async (t) => {
    const { ours, theirs, s } = await both(t, family);
    for (const table of ['nat', 'filter']) {
      const a = await execInNetns(ours.ns, ipt, ['-t', table, '-S']);
      const b = await execInNetns(theirs.ns, ipt, ['-t', table, '-S']);
      t.is(a.stdout, b.stdout, table);
    }
    t.is((await saveText(ours.ns, family, 'nat', backend)).split('\n').filter((l) => l.startsWith('-A SH')).length, s.nat.length);
  });

  rootTest(`IPv${family}: every rule shape written over netlink equals iptables-restore's in the raw netlink dump`, async (t) => {
    const { ours, theirs } = await both(t, family);
    for (const [table, chains] of [['nat', NAT_CHAINS], ['filter', FILTER_CHAINS]] as const) {
      const a = await dump(ours, family, table, [...chains]);
      const b = await dump(theirs, family, table, [...chains]);
      for (const c of chains) t.deepEqual(a[c], b[c], `${table} ${c}`);
      // The chains themselves (base chains' hooks, priorities, types, policies) as nft prints them.
      const na = await execInNetns(ours.ns, NFT, ['list', 'table', nft, table]);
      const nb = await execInNetns(theirs.ns, NFT, ['list', 'table', nft, table]);
      t.is(na.stdout, nb.stdout, table);
    }
  });

  rootTest(`IPv${family}: iptables -D by spec deletes each rule written over netlink`, async (t) => {
    const { ours, s } = await both(t, family);
    for (const rule of s.nat) {
      const r = iptables.renderRule(rule, family, 'nat');
      await execInNetns(ours.ns, ipt, ['-t', 'nat', '-D', r.chain, ...r.args]);
    }
    t.deepEqual((await dump(ours, family, 'nat', ['SH'])).SH, []);
  });

  rootTest.serial(`IPv${family}: rules iptables-restore wrote are deleted by spec over netlink`, async (t) => {
    const { theirs, s } = await both(t, family);
    const before = { ...iptables.stats };
    const saved = (await iptables.save(theirs.ns, family, 'nat', { backend })).rules.filter((r) => r.chain === 'SH');
    // Half by the rule model, half as iptables-save printed them.
    const ops = s.nat.map((rule, i) => (i % 2 === 0 ? { op: 'delete' as const, rule } : { op: 'deleteSaved' as const, rule: saved[i]! }));
    await iptables.restore(theirs.ns, { family, table: 'nat', ops }, { backend });
    t.is(iptables.stats.restores, before.restores, 'no iptables-restore');
    t.deepEqual((await dump(theirs, family, 'nat', ['SH'])).SH, []);
  });
}

rootTest('a batch whose last op fails applies nothing and names the payload line', async (t) => {
  const [h] = await namespaces(t, 1);
  await iptables.restore(h!.ns, { table: 'nat', own: ['KEEP'], ops: [{ op: 'append', rule: { chain: 'KEEP', comment: 'keep', target: { kind: 'RETURN' } } }] }, { backend });
  const before = await saveText(h!.ns, 4, 'nat', backend);
  const tx: Transaction = {
    table: 'nat',
    own: ['KEEP', 'NEW-OWN'],
    ops: [
      { op: 'append', rule: { chain: 'NEW-OWN', protocol: 'tcp', dport: 1, target: { kind: 'DNAT', ip: '10.0.0.1' } } },
      { op: 'append', rule: { chain: 'PREROUTING', target: { kind: 'jump', chain: 'NEW-OWN' } } },
      { op: 'append', rule: { chain: 'NEW-OWN', target: { kind: 'jump', chain: 'NO-SUCH-CHAIN' } } },
    ],
  };
  const e = await t.throwsAsync(iptables.restore(h!.ns, tx, { backend }), { instanceOf: iptables.IptablesError });
  t.regex(e!.message, /^nf_tables \(ip nat\): append to chain NEW-OWN: No such file or directory.*\[payload line 6: -A NEW-OWN -j NO-SUCH-CHAIN\]$/);
  t.is(e!.code, 'ENOENT');
  t.is(await saveText(h!.ns, 4, 'nat', backend), before, 'KEEP not flushed, nothing created');
});

rootTest('a set match naming a set that does not exist fails the transaction whole', async (t) => {
  const [h] = await namespaces(t, 1);
  const tx: Transaction = { table: 'nat', own: ['X'], ops: [{ op: 'append', rule: { chain: 'X', matchSet: { name: 'nope', flags: ['dst'] }, target: { kind: 'RETURN' } } }] };
  const e = await t.throwsAsync(iptables.restore(h!.ns, tx, { backend }), { instanceOf: iptables.IptablesError });
  t.regex(e!.message, /match set nope.*Set nope doesn't exist/);
  t.false((await saveText(h!.ns, 4, 'nat', backend)).includes(':X'));
});

rootTest('deleting a rule that is not there fails the transaction whole', async (t) => {
  const [h] = await namespaces(t, 1);
  const rule: Rule = { chain: 'OWN', comment: 'a', target: { kind: 'RETURN' } };
  await iptables.restore(h!.ns, { table: 'filter', own: ['OWN'], ops: [{ op: 'append', rule }] }, { backend });
  const e = await t.throwsAsync(
    iptables.restore(h!.ns, { table: 'filter', ops: [{ op: 'delete', rule }, { op: 'delete', rule }] }, { backend }),
    { instanceOf: iptables.IptablesError },
  );
  t.regex(e!.message, /delete rule from chain OWN: No such file or directory.*\[payload line 3: -D OWN/);
  t.is((await iptables.save(h!.ns, 4, 'filter', { backend })).rules.length, 1, 'the first delete did not land either');
});

rootTest.serial('an ADD-like transaction into an existing chain is one netlink write and no process', async (t) => {
  const [h] = await namespaces(t, 1);
  const tx = (id: string): Transaction => ({ table: 'nat', shared: [{ name: 'PM' }], ops: [{ op: 'append', rule: { chain: 'PM', protocol: 'tcp', dport: 80, comment: id, target: { kind: 'DNAT', ip: '10.0.0.1', port: 8080 } } }] });
  await iptables.restore(h!.ns, tx('a'), { backend });
  const before = { ...iptables.stats };
  const r = await iptables.restore(h!.ns, tx('b'), { backend });
  t.is(r.attempts, 1);
  t.is(iptables.stats.nftWrites - before.nftWrites, 1);
  t.is(iptables.stats.restores + iptables.stats.saves + iptables.stats.lists, before.restores + before.saves + before.lists);
});

rootTest.serial('an insert at a position past the first stays with iptables-restore', async (t) => {
  const [h] = await namespaces(t, 1);
  const rule = (c: string): Rule => ({ chain: 'OWN', comment: c, target: { kind: 'RETURN' } });
  await iptables.restore(h!.ns, { table: 'filter', own: ['OWN'], ops: [{ op: 'append', rule: rule('a') }, { op: 'append', rule: rule('c') }] }, { backend });
  const before = { ...iptables.stats };
  await iptables.restore(h!.ns, { table: 'filter', ops: [{ op: 'insert', rule: rule('b'), position: 2 }] }, { backend });
  t.is(iptables.stats.restores - before.restores, 1);
  t.deepEqual((await iptables.save(h!.ns, 4, 'filter', { backend })).rules.map((r) => r.comment), ['a', 'b', 'c']);
});

rootTest.serial('the legacy backend never writes over netlink', async (t) => {
  const [h] = await namespaces(t, 1);
  const before = { ...iptables.stats };
  await iptables.restore(h!.ns, { table: 'filter', own: ['L'], ops: [{ op: 'append', rule: { chain: 'L', target: { kind: 'ACCEPT' } } }] }, { backend: 'legacy' });
  t.is(iptables.stats.nftWrites, before.nftWrites);
  t.is(iptables.stats.restores - before.restores, 1);
});
