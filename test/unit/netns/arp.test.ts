// The gratuitous ARP's inputs (lib/netns/arp.ts): each bad one refused by name before anything is
// sent. What it does on the wire is tested with the bridge (integration/plugins/bridge.test.ts).
import test from 'ava';
import { arp } from '../../../lib/netns/index.js';

test('an IPv6 address, a bad MAC or a bad link index is refused, naming the field', async (t) => {
  await t.throwsAsync(arp.announce(undefined, 1, 'fd00::1', '02:00:00:00:00:01'), { message: /^arp\.address: expected an IPv4 address, got "fd00::1"/ });
  await t.throwsAsync(arp.announce(undefined, 1, '10.0.0.300', '02:00:00:00:00:01'), { message: /^arp\.address: expected an IPv4 or IPv6 address/ });
  await t.throwsAsync(arp.announce(undefined, 1, '10.0.0.1', '02:00:00:00:01'), { message: /^arp\.mac: expected a MAC address/ });
  await t.throwsAsync(arp.announce(undefined, 0, '10.0.0.1', '02:00:00:00:00:01'), { message: /^arp\.ifindex: expected a link index, got 0/ });
  await t.throwsAsync(arp.announce(undefined, 1.5, '10.0.0.1', '02:00:00:00:00:01'), { message: /^arp\.ifindex: expected a link index/ });
});
