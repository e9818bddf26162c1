// Injection corpus: hostile container IDs, labels and names either are refused with the field
// named, or stay one inert token on their own line; nothing can add a line, an option or a rule.
import test from 'ava';
import { checkTransaction, readTagged, removeTagged, quote, renderPayload, tokenize } from '../../../lib/iptables/index.js';
import type { Netns } from '../../../lib/netns/index.js';
import { SpecError } from '../../../lib/native/index.js';

const corpus: string[] = [
  '"',
  'abc"def',
  '" -j ACCEPT "',
  'x\n-A INPUT -j ACCEPT',
  '-A INPUT -j ACCEPT',
  'COMMIT',
  'a\0b',
  'a\rb',
  'a\tb',
  'tab\x0bvt',
  'del\x7f',
  'back\\slash',
  'x'.repeat(255),
  'x'.repeat(256),
  'x'.repeat(300),
  'contäiner',
  '容器',
  'emoji😀',
  '$(reboot)',
  '`reboot`',
  "it's",
  '; rm -rf /',
  '# not a comment',
  '',
  ' ',
  '\u2028',
];

// What comments may hold: printable ASCII without '"' or '\', 1-255 characters.
const acceptable = (s: string) => /^[\x20-\x7e]{1,255}$/.test(s) && !/["\\]/.test(s);

function txWithComment(comment: string) {
  return {
    table: 'nat',
    ops: [{ op: 'append', rule: { chain: 'M-DCOS', protocol: 'tcp', dport: 80, comment, target: { kind: 'DNAT', ip: '10.0.0.2', port: 80 } } }],
  };
}

test('container IDs in comments: refused, or one inert token on one line', (t) => {
  for (const id of corpus) {
    for (const comment of [id, `container_id: ${id}`]) {
      if (!acceptable(comment)) {
        const e = t.throws(() => checkTransaction(txWithComment(comment)), { instanceOf: SpecError }, JSON.stringify(comment));
        t.regex(e!.message, /^transaction\.ops\[0\]\.rule\.comment: expected 1-255 printable ASCII characters/);
        continue;
      }
      const payload = renderPayload(checkTransaction(txWithComment(comment)));
      const lines = payload.split('\n');
      t.is(lines.length, 4, `${JSON.stringify(comment)} stays on one line`);
      t.deepEqual(
        tokenize(lines[1]!),
        ['-A', 'M-DCOS', '-p', 'tcp', '-m', 'tcp', '--dport', '80', '-m', 'comment', '--comment', comment, '-j', 'DNAT', '--to-destination', '10.0.0.2:80'],
        JSON.stringify(comment),
      );
    }
  }
});

test('names, interfaces, sets and addresses from the corpus are all refused', (t) => {
  const rule = (extra: object) => ({ table: 'nat', ops: [{ op: 'append', rule: { chain: 'X', target: { kind: 'RETURN' }, ...extra } }] });
  // COMMIT is a fine interface or set name; as a chain it is refused (see the chain-name test).
  for (const bad of corpus.filter((s) => s !== 'COMMIT')) {
    const cases: [object, RegExp][] = [
      [{ table: 'nat', ops: [{ op: 'append', rule: { chain: bad, target: { kind: 'RETURN' } } }] }, /rule\.chain: /],
      [{ table: 'nat', own: [bad], ops: [] }, /^transaction\.own\[0\]: /],
      [{ table: 'nat', shared: [{ name: bad }], ops: [] }, /^transaction\.shared\[0\]\.name: /],
      [rule({ target: { kind: 'jump', chain: bad } }), /rule\.target\.chain: /],
      [rule({ inInterface: bad }), /rule\.inInterface: /],
      [rule({ outInterface: { not: bad } }), /rule\.outInterface: /],
      [rule({ matchSet: { name: bad, flags: ['dst'] } }), /rule\.matchSet\.name: /],
      [rule({ source: bad }), /rule\.source: /],
      [rule({ protocol: bad }), /rule\.protocol: /],
      [rule({ addrType: { dst: bad } }), /rule\.addrType\.dst: /],
    ];
    for (const [tx, field] of cases) {
      const e = t.throws(() => checkTransaction(tx), { instanceOf: SpecError }, `${JSON.stringify(bad)} ${field}`);
      t.regex(e!.message, field);
    }
  }
});

const noNs = undefined as unknown as Netns; // would fail loudly if it were ever used

test('removeTagged refuses a hostile tag before running anything', async (t) => {
  for (const bad of corpus.filter((s) => !acceptable(s))) {
    const e = await t.throwsAsync(removeTagged(noNs, 4, 'nat', { chains: ['POSTROUTING'], tag: bad }), { instanceOf: SpecError });
    t.regex(e!.message, /^tag: expected 1-255 printable ASCII characters/);
  }
});

test('readTagged refuses a hostile tag before running anything', async (t) => {
  for (const bad of corpus.filter((s) => !acceptable(s))) {
    await t.throwsAsync(readTagged(noNs, 4, 'nat', ['POSTROUTING'], bad), { instanceOf: SpecError });
  }
});

test('saved tokens with quotes and backslashes are re-quoted so the tokenizer gives them back', (t) => {
  const samples = ['plain', 'with space', 'a"b', 'a\\b', "it's", '\\"\'', '"', '\\', 'x y "z" \\w\\', '-j ACCEPT'];
  for (const s of samples) t.deepEqual(tokenize(`-D X ${quote(s)} -j RETURN`), ['-D', 'X', s, '-j', 'RETURN'], JSON.stringify(s));
  for (const bad of ['a\nb', 'a\0b', 'a\rb', 'x\x1b[2J']) t.throws(() => quote(bad), { instanceOf: SpecError });
  t.throws(() => tokenize('-A X -m comment --comment "unterminated'), { instanceOf: SpecError });
});
