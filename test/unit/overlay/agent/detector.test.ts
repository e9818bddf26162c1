// The fixed-list master detector: the first address, the next on failure, a redirect target first.
import test from 'ava';
import { StaticDetector } from '../../../../lib/overlay/agent/detector.js';
import { accepts } from '../../../../lib/overlay/agent/http.js';

test('a list is tried in turn, wrapping; a redirect target is used until it fails', (t) => {
  const d = new StaticDetector(['a:1', 'b:1', 'c:1']);
  t.is(d.current(), 'a:1');
  d.failed('a:1');
  t.is(d.current(), 'b:1');
  d.failed('a:1');
  t.is(d.current(), 'b:1', 'a stale failure of another address moves nothing');
  d.redirected('c:1');
  t.is(d.current(), 'c:1');
  d.failed('c:1');
  t.is(d.current(), 'b:1');
  d.failed('b:1');
  d.failed('c:1');
  t.is(d.current(), 'a:1');
});

test("/overlay-agent/overlay answers JSON to what libprocess' acceptsMediaType would", (t) => {
  for (const h of [undefined, '', 'application/json', '*/*', 'application/*', 'text/html, application/json;q=0.5']) t.true(accepts(h, 'application/json'), String(h));
  for (const h of ['application/x-protobuf', 'text/html', 'application/json;q=0']) t.false(accepts(h, 'application/json'), h);
});
