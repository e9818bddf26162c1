// Native rejections become the library's error classes with code, errno, op and detail.
import test from 'ava';
import { errnoMessage, errnoName, fromNative, MesosCniError, NetlinkError, NetnsError, SpawnError, SpecError, SysctlError } from '../../../lib/native/errors.js';

function raw(kind: string, errno: number, code: string): Error {
  return Object.assign(new Error(`op x: ${errnoMessage(errno)}`), { kind, errno, code, op: 'op x', detail: 'kernel says' });
}

test('each native kind maps to its class, keeping code, errno, op and detail', (t) => {
  const cases: [string, typeof MesosCniError][] = [
    ['netlink', NetlinkError],
    ['netns', NetnsError],
    ['sysctl', SysctlError],
    ['spawn', SpawnError],
    ['native', MesosCniError],
  ];
  for (const [kind, Cls] of cases) {
    const e = fromNative(raw(kind, 17, 'EEXIST')) as MesosCniError;
    t.true(e instanceof Cls, kind);
    t.true(e instanceof MesosCniError);
    t.like(e, { code: 'EEXIST', errno: 17, op: 'op x', detail: 'kernel says', message: 'op x: File exists', name: Cls.name });
  }
});

test('errors that did not come from the addon pass through unchanged', (t) => {
  const e = new TypeError('plain');
  t.is(fromNative(e), e);
  t.is(fromNative('text'), 'text');
});

test('errnoName gives the symbolic name, E<number> when unknown', (t) => {
  t.is(errnoName(19), 'ENODEV');
  t.is(errnoName(99), 'EADDRNOTAVAIL');
  t.is(errnoName(4242), 'E4242');
});

test('errnoMessage gives the text, errno <number> when unknown', (t) => {
  t.is(errnoMessage(17), 'File exists');
  t.is(errnoMessage(4242), 'errno 4242');
});

test('SpecError is EINVAL and names what was wrong', (t) => {
  const e = new SpecError('link.mtu: expected an integer from 68 to 65535, got 5');
  t.like(e, { code: 'EINVAL', errno: 22, name: 'SpecError' });
});
