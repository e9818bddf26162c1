// The launcher ⇄ daemon wire format as data: round trips, the C launcher's exact layout, bounds.
import test from 'ava';
import { decodeReply, decodeRequest, encodeReply, encodeRequest, frame, frameLength, MAX_FRAME, ProtocolError } from '../../../lib/daemon/protocol.js';

test('request round trip keeps env values with = and binary stdin', (t) => {
  const req = { type: 'bridge', env: { CNI_COMMAND: 'ADD', CNI_ARGS: 'A=1;B=2', EMPTY: '' }, stdin: Buffer.from([0x7b, 0, 0xff, 0x7d]) };
  t.deepEqual(decodeRequest(encodeRequest(req)), req);
});

test('request layout is what launcher.c writes', (t) => {
  const body = Buffer.from('MCNI1\0host-local\0CNI_COMMAND=VERSION\0NOEQUALS\0\0{}');
  t.deepEqual(decodeRequest(body), { type: 'host-local', env: { CNI_COMMAND: 'VERSION' }, stdin: Buffer.from('{}') });
});

test('a request with another magic is refused', (t) => {
  t.throws(() => decodeRequest(Buffer.from('MCNI2\0x\0\0')), { instanceOf: ProtocolError });
});

test('a request with an unterminated env entry is refused', (t) => {
  t.throws(() => decodeRequest(Buffer.from('MCNI1\0x\0A=1')), { instanceOf: ProtocolError, message: /unterminated/ });
});

test('reply round trip through a frame', (t) => {
  const reply = { exitCode: 1, requestId: 'abc123', stdout: Buffer.from('{"code":7}\n') };
  const f = frame(encodeReply(reply));
  t.deepEqual(decodeReply(f.subarray(4)), reply);
});

test('frameLength reads the length prefix once its 4 bytes are there', (t) => {
  const f = frame(encodeReply({ exitCode: 1, requestId: 'abc123', stdout: Buffer.from('{"code":7}\n') }));
  t.is(frameLength(f), f.length - 4);
  t.is(frameLength(f.subarray(0, 3)), undefined);
});

test('a truncated reply is refused', (t) => {
  t.throws(() => decodeReply(Buffer.from([0])), { message: /truncated/ });
});

test('a frame longer than MAX_FRAME is refused', (t) => {
  const big = Buffer.alloc(4);
  big.writeUInt32BE(MAX_FRAME + 1);
  t.throws(() => frameLength(big), { instanceOf: ProtocolError });
});
