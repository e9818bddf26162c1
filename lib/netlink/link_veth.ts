// veth pairs: the peer is created directly in its namespace in the same request.
import { SpecError } from '../native/index.js';
import { defineLinkKind, prepareCommon, type LinkCommon } from './link.js';

declare module './link.js' {
  interface LinkKinds {
    veth: { peer: LinkCommon };
  }
}

defineLinkKind('veth', async (h, s, field) => {
  if (typeof s.peer !== 'object' || s.peer === null || typeof s.peer.name !== 'string') {
    throw new SpecError(`${field}.peer: expected an object with at least a name`);
  }
  if (s.peer.up !== undefined) {
    // veth_open() needs the peer pointer, which is not set while the pair is being created.
    throw new SpecError(`${field}.peer.up: the kernel refuses to bring a veth peer up in the create request (ENOTCONN); set it up afterwards in its namespace`);
  }
  return { peer: await prepareCommon(h, s.peer, `${field}.peer`) };
});
