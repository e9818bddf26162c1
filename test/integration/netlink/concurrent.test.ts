// Eight handles on eight namespaces driven at once (interleaved link/addr/route/neigh verbs, and
// parallel requests on each handle): every call succeeds and each namespace ends in exactly its own state.
import { ipJson, namespaces, rootTest, type TestNs } from '../../helpers/fixture.js';

const N = 8;

async function build(ns: TestNs, i: number): Promise<void> {
  const nl = ns.nl;
  await nl.link.add({ kind: 'veth', name: `va${i}`, peer: { name: `vb${i}` } });
  // Several requests in flight on the same handle: they share its socket one exchange at a time.
  await Promise.all([
    nl.addr.add({ dev: `va${i}`, address: `10.${i}.0.1/24` }),
    nl.addr.add({ dev: `va${i}`, address: `fd0${i}::1/64` }),
    nl.addr.add({ dev: `vb${i}`, address: `10.${i}.0.2/24` }),
    nl.link.set({ name: 'lo', up: true }),
  ]);
  await nl.request([
    { op: 'link.set', spec: { name: `va${i}`, up: true } },
    { op: 'link.set', spec: { name: `vb${i}`, up: true } },
    { op: 'route.add', spec: { dst: `10.10${i}.0.0/16`, gw: `10.${i}.0.2` } },
    { op: 'route.add', spec: { dst: `fd1${i}::/48`, dev: `va${i}`, table: 100 + i } },
  ]);
  await Promise.all([
    nl.neigh.add({ dev: `va${i}`, address: `10.${i}.0.9`, lladdr: `02:00:00:00:00:0${i}` }),
    nl.rule.add({ from: `10.${i}.0.0/24`, table: 100 + i, priority: 1000 + i }),
    nl.route.list({ table: 'all' }),
    nl.addr.list(),
  ]);
}

rootTest('8 handles on 8 namespaces in parallel each leave exactly their own state', async (t) => {
  const all = await namespaces(t, N, 'mc');
  await Promise.all(all.map((ns, i) => build(ns, i)));
  for (const [i, ns] of all.entries()) {
    const links = (await ns.nl.link.list()).map((l) => l.name).sort();
    t.deepEqual(links, [`va${i}`, `vb${i}`, 'lo'].sort(), `links of ${i}`);
    const addrs = (await ns.nl.addr.list()).filter((a) => a.scope !== 'link').map((a) => a.address).sort();
    t.deepEqual(addrs, ['127.0.0.1/8', '::1/128', `10.${i}.0.1/24`, `10.${i}.0.2/24`, `fd0${i}::1/64`].sort(), `addresses of ${i}`);
    const routes = (await ns.nl.route.list({ table: 'all' })).filter((r) => r.table !== 255 && !r.dst.startsWith('fe80'));
    const va = (await ns.nl.link.get(`va${i}`)).index;
    const vb = (await ns.nl.link.get(`vb${i}`)).index;
    t.deepEqual(
      routes.map((r) => `${r.dst} ${r.gw ?? '-'} ${r.dev} ${r.table}`).sort(),
      [
        `10.${i}.0.0/24 - ${va} 254`,
        `10.${i}.0.0/24 - ${vb} 254`,
        `10.10${i}.0.0/16 10.${i}.0.2 ${vb} 254`,
        `fd0${i}::/64 - ${va} 254`,
        `fd1${i}::/48 - ${va} ${100 + i}`,
      ].sort(),
      `routes of ${i}`,
    );
    t.deepEqual((await ns.nl.neigh.list({ family: 4 })).map((n) => n.address), [`10.${i}.0.9`]);
    t.deepEqual((await ns.nl.rule.list({ table: 100 + i })).map((r) => [r.from, r.priority]), [[`10.${i}.0.0/24`, 1000 + i]]);
    // An independent view agrees on the addresses.
    const oracle = await ipJson<{ addr_info: { local: string; prefixlen: number; scope: string }[] }[]>(ns, ['addr', 'show']);
    const theirs = oracle.flatMap((l) => l.addr_info.filter((a) => a.scope !== 'link').map((a) => `${a.local}/${a.prefixlen}`));
    t.deepEqual(theirs.sort(), addrs);
  }
});
