// cni.dev/valid-attachments as data: absent is "say nothing", malformed names the field.
import test from 'ava';
import { validAttachments, VALID_ATTACHMENTS } from '../../../lib/cni/gc.js';
import type { NetConf } from '../../../lib/cni/config.js';

const conf = (v?: unknown): NetConf => ({ cniVersion: '1.1.0', name: 'n', type: 't', ...(v === undefined ? {} : { [VALID_ATTACHMENTS]: v }) });

test('absent: undefined (nothing may be released); an empty list: every attachment is stale', (t) => {
  t.is(validAttachments(conf()), undefined);
  const none = validAttachments(conf([]))!;
  t.false(none.has('a', 'eth0'));
  t.false(none.hasContainer('a'));
});

test('an attachment is its container and interface; hasContainer matches any interface', (t) => {
  const v = validAttachments(conf([{ containerID: 'a', ifname: 'eth0' }, { containerID: 'b', ifname: 'eth1' }]))!;
  t.true(v.has('a', 'eth0'));
  t.false(v.has('a', 'eth1'));
  t.true(v.hasContainer('b'));
  t.false(v.hasContainer('c'));
  t.deepEqual(v.list.map((a) => a.containerID), ['a', 'b']);
});

test('malformed lists are code 7 naming the field', (t) => {
  t.like(t.throws(() => validAttachments(conf({}))), { code: 7, message: 'cni.dev/valid-attachments: expected an array of {containerID, ifname}, got {}' });
  t.like(t.throws(() => validAttachments(conf([{ containerID: 'a' }]))), { code: 7, message: 'cni.dev/valid-attachments[0]: expected an object {containerID, ifname} of strings, got {"containerID":"a"}' });
});
