// The registries that span C++ and TypeScript agree: netlink verbs by name, and addon exports.
import test from 'ava';
import { binding } from '../../../lib/native/binding.js';
import { native } from '../../../lib/native/index.js';
import { NetlinkHandle } from '../../../lib/netlink/index.js';
import { opNames } from '../../../lib/netlink/ops.js';

test('the netlink verbs registered in C++ (OpRegistrar) are the ones lib/netlink defines (defineOp)', (t) => {
  t.truthy(NetlinkHandle); // the library entry, whose imports run every defineOp
  const cxx = binding().opNames();
  const ts = opNames();
  t.true(ts.length > 0);
  t.deepEqual(
    { onlyInCxx: cxx.filter((n) => !ts.includes(n)), onlyInTs: ts.filter((n) => !cxx.includes(n)) },
    { onlyInCxx: [], onlyInTs: [] },
  );
  t.deepEqual(cxx, [...cxx].sort(), 'the addon lists them sorted');
});

test('the addon exports exactly the functions lib/native wraps (the Binding interface)', (t) => {
  const exported = Object.keys(binding()).sort();
  const wrapped = Object.keys(native).sort();
  t.deepEqual(
    { onlyExported: exported.filter((n) => !wrapped.includes(n)), onlyWrapped: wrapped.filter((n) => !exported.includes(n)) },
    { onlyExported: [], onlyWrapped: [] },
  );
  for (const name of exported) t.is(typeof (binding() as unknown as Record<string, unknown>)[name], 'function', name);
});
