// Agent records as the overlay master serves them, for data plane tests and the benchmark: agent n
// has IP 10.0.0.n (or `ip`), VTEP 44.128.x.y/20 and MAC 70:b3:d5:80:xx:yy derived from n as the
// master derives them, and per overlay its n-th block.
import type { AgentInfo } from '../../../lib/overlay/master/types.js';

const hex = (v: number) => v.toString(16).padStart(2, '0');

export function agent(n: number, over: { v6?: boolean; overlays?: string[]; mtu?: number; ip?: string } = {}): AgentInfo {
  const vtep = `44.128.${n >> 8}.${n & 255}`;
  const backend = { vxlan: { vni: 1024, vtep_name: 'vtep1024', vtep_ip: `${vtep}/20`, vtep_mac: `70:B3:D5:80:${hex(n >> 8)}:${hex(n & 255)}`, ...(over.v6 && { vtep_ip6: `fd01:a::${n.toString(16)}/64` }), ...(over.mtu && { vtep_mtu: over.mtu }) } };
  const overlays = (over.overlays ?? ['dcos']).map((name) =>
    name === 'dcos6'
      ? { info: { name, subnet6: 'fd01:b::/64', prefix6: 80, enabled: true }, subnet6: `fd01:b:0:0:${n.toString(16)}::/80`, backend }
      : { info: { name, subnet: '9.0.0.0/8', prefix: 24, enabled: true }, subnet: `9.${n >> 8}.${n & 255}.0/24`, backend },
  );
  return { ip: over.ip ?? `10.${n >> 16}.${(n >> 8) & 255}.${n & 255}`, overlays };
}

