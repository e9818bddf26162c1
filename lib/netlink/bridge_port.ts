// Bridge port options (`bridge link set dev vethX hairpin on learning off`), as the CNI bridge
// plugin sets hairpin mode on a container's host-side veth. Encoded in native/netlink/bridge_port.cc.
import { SpecError } from '../native/index.js';
import type { NetlinkHandle } from './handle.js';
import { defineOp } from './ops.js';
import { bool, defined, int } from './validate.js';

/** Options of one bridge port; only the fields given are changed. */
export interface BridgePortSpec {
  /** The port (name or index in the handle's namespace); it must already be enslaved to a bridge. */
  dev: string | number;
  /** Send frames back out the port they came in on (IFLA_BRPORT_MODE; iproute2 `hairpin`). */
  hairpin?: boolean;
  /** Learn source MACs on this port. */
  learning?: boolean;
  /** Flood unknown unicast to this port. */
  flood?: boolean;
  mcastFlood?: boolean;
  bcastFlood?: boolean;
  /** Drop STP BPDUs received on the port (`guard`). */
  guard?: boolean;
  /** Never let the port become root port (`root_block`). */
  rootBlock?: boolean;
  fastLeave?: boolean;
  proxyArp?: boolean;
  neighSuppress?: boolean;
  /** Isolated ports only talk to non-isolated ones. */
  isolated?: boolean;
  /** STP path cost. */
  cost?: number;
  /** STP port priority, 0-63. */
  priority?: number;
}

const FLAGS = ['hairpin', 'learning', 'flood', 'mcastFlood', 'bcastFlood', 'guard', 'rootBlock', 'fastLeave', 'proxyArp', 'neighSuppress', 'isolated'] as const;

declare module './ops.js' {
  interface OpSpecs {
    'bridgePort.set': BridgePortSpec;
  }
}

function describe(s: BridgePortSpec): string {
  const opts = FLAGS.filter((k) => s[k] !== undefined).map((k) => `${k} ${s[k] ? 'on' : 'off'}`);
  if (s.cost !== undefined) opts.push(`cost ${s.cost}`);
  if (s.priority !== undefined) opts.push(`priority ${s.priority}`);
  return `set bridge port ${s.dev} ${opts.join(' ')}`.trimEnd();
}

defineOp('bridgePort.set', {
  async prepare(h, s) {
    if (typeof s !== 'object' || s === null || s.dev === undefined) throw new SpecError('bridgePort.dev: required (the port, a name or index)');
    const out: Record<string, unknown> = { index: await h.linkIndex(s.dev, 'bridgePort.dev') };
    for (const k of FLAGS) if (s[k] !== undefined) out[k] = bool(s[k], `bridgePort.${k}`);
    out.cost = s.cost === undefined ? undefined : int(s.cost, 'bridgePort.cost', 1, 2 ** 32 - 1);
    out.priority = s.priority === undefined ? undefined : int(s.priority, 'bridgePort.priority', 0, 63);
    const spec = defined(out);
    if (Object.keys(spec).length === 1) throw new SpecError('bridgePort: expected at least one option to set');
    return spec;
  },
  describe,
});

/** The bridge-port verbs of one handle. */
export class BridgePortApi {
  constructor(private readonly h: NetlinkHandle) {}

  /** `bridge link set dev DEV hairpin on|off learning on|off ...`; fails on a link that is not a bridge port. */
  async set(spec: BridgePortSpec): Promise<void> {
    await this.h.run('bridgePort.set', spec);
  }
}
