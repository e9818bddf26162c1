// ipset for real inside a test namespace: one restore run creates and fills a set, -exist makes
// every op idempotent (nomatch updated in place), save reads it back, a bad run names its line.
import { ipset } from '../../../lib/iptables/index.js';
import { IptablesError } from '../../../lib/iptables/errors.js';
import { namespaces, nsExec, rootTest } from '../../helpers/fixture.js';

rootTest('restore creates the set and its entries in one run; running it again changes nothing', async (t) => {
  const [ns] = await namespaces(t, 1, 'ips');
  const ops = [
    { op: 'create', set: 'overlay', type: 'hash:net', counters: true },
    { op: 'add', set: 'overlay', entry: '0.0.0.0/1' },
    { op: 'add', set: 'overlay', entry: '128.0.0.0/1' },
    { op: 'add', set: 'overlay', entry: '9.0.0.0/8', nomatch: true },
  ] as const;
  await ipset.restore(ns!.ns, ops);
  await ipset.restore(ns!.ns, ops);
  const saved = await ipset.save(ns!.ns, 'overlay');
  t.is(saved?.type, 'hash:net');
  t.true(saved?.counters);
  t.deepEqual(
    saved?.entries.map((e) => `${e.entry}${e.nomatch ? ' nomatch' : ''}`).sort(),
    ['0.0.0.0/1', '128.0.0.0/1', '9.0.0.0/8 nomatch'],
  );
  // An independent view: ipset's own listing in the namespace.
  t.regex(await nsExec(ns!, ['ipset', 'list', 'overlay']), /9\.0\.0\.0\/8 nomatch/);
  // nomatch is updated in place by -exist; del of an absent entry is no error.
  await ipset.restore(ns!.ns, [{ op: 'add', set: 'overlay', entry: '9.0.0.0/8' }, { op: 'del', set: 'overlay', entry: '11.0.0.0/8' }]);
  t.false((await ipset.save(ns!.ns, 'overlay'))!.entries.find((e) => e.entry === '9.0.0.0/8')!.nomatch);
  t.is(await ipset.save(ns!.ns, 'absent'), undefined);
});

rootTest('a set of another type under the same name fails with ipset\'s reason and the payload line', async (t) => {
  const [ns] = await namespaces(t, 1, 'ips');
  await ipset.restore(ns!.ns, [{ op: 'create', set: 'taken', type: 'hash:ip' }]);
  const e = await t.throwsAsync(ipset.restore(ns!.ns, [{ op: 'create', set: 'taken', type: 'hash:net' }]), { instanceOf: IptablesError });
  t.regex(e!.message, /^ipset restore \(ipset\): .*already exists.*\[payload line 1: create taken hash:net\]/);
});
