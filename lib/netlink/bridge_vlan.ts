// VLANs of a bridge port (`bridge vlan add dev vethX vid 100 pvid untagged`), as the CNI bridge
// plugin programs an access or trunk port. Encoded in native/netlink/bridge_vlan.cc. The bridge must
// filter VLANs (link kind bridge, vlanFiltering); kernels built without it answer EOPNOTSUPP.
import { SpecError } from '../native/index.js';
import type { NetlinkHandle } from './handle.js';
import { defineOp } from './ops.js';
import { bool, defined, int } from './validate.js';

export interface BridgeVlanSpec {
  /** The port (name or index in the handle's namespace), enslaved to a VLAN-filtering bridge. */
  dev: string | number;
  /** VLAN ID, 1-4094. */
  vid: number;
  /** Untagged frames entering the port belong to this VLAN. */
  pvid?: boolean;
  /** Frames of this VLAN leave the port untagged. */
  untagged?: boolean;
}

declare module './ops.js' {
  interface OpSpecs {
    'bridgeVlan.add': BridgeVlanSpec;
    'bridgeVlan.del': BridgeVlanSpec;
  }
}

function prepare(verb: string) {
  return async (h: NetlinkHandle, s: BridgeVlanSpec) => {
    if (typeof s !== 'object' || s === null || s.dev === undefined) throw new SpecError(`bridgeVlan.${verb}.dev: required (the port, a name or index)`);
    return defined({
      index: await h.linkIndex(s.dev, `bridgeVlan.${verb}.dev`),
      vid: int(s.vid, `bridgeVlan.${verb}.vid`, 1, 4094),
      pvid: s.pvid === undefined ? undefined : bool(s.pvid, `bridgeVlan.${verb}.pvid`),
      untagged: s.untagged === undefined ? undefined : bool(s.untagged, `bridgeVlan.${verb}.untagged`),
    });
  };
}

const describe = (verb: string) => (s: BridgeVlanSpec) => `bridge vlan ${verb} dev ${s.dev} vid ${s.vid}${s.pvid ? ' pvid' : ''}${s.untagged ? ' untagged' : ''}`;

defineOp('bridgeVlan.add', { prepare: prepare('add'), describe: describe('add'), undo: (s) => ({ op: 'bridgeVlan.del', spec: s }) });
defineOp('bridgeVlan.del', { prepare: prepare('del'), describe: describe('del'), ok: ['ENOENT'] });

/** The VLAN verbs of one handle. */
export class BridgeVlanApi {
  constructor(private readonly h: NetlinkHandle) {}

  /** `bridge vlan add dev DEV vid N [pvid] [untagged]`. */
  async add(spec: BridgeVlanSpec): Promise<void> {
    await this.h.run('bridgeVlan.add', spec);
  }

  /** `bridge vlan del dev DEV vid N`; a VLAN the port does not have is fine. */
  async del(spec: BridgeVlanSpec): Promise<void> {
    await this.h.run('bridgeVlan.del', spec);
  }
}
