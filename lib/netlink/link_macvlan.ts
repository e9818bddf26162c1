// macvlan and macvtap on a lower device (`ip link add link eth0 name mv0 netns X type macvlan mode bridge`).
// The link is born in `netns` in one request; the lower device is resolved in the handle's namespace.
import { SpecError } from '../native/index.js';
import { defineLinkKind, type LinkCommon } from './link.js';
import type { NetlinkHandle } from './handle.js';
import { oneOf } from './validate.js';

export type MacvlanMode = 'bridge' | 'private' | 'vepa' | 'passthru';
const MODES: Record<MacvlanMode, number> = { bridge: 4, private: 1, vepa: 2, passthru: 8 };

interface MacvlanFields {
  /** The lower device (name or index) in the handle's namespace. */
  link: string | number;
  /** Default 'bridge' (sent explicitly: the kernel's own default is 'vepa'). */
  mode?: MacvlanMode;
}

declare module './link.js' {
  interface LinkKinds {
    macvlan: MacvlanFields;
    /** Like macvlan, plus a character device /dev/tapN (N = its ifindex) in the host's devtmpfs. */
    macvtap: MacvlanFields;
  }
}

async function prepare(h: NetlinkHandle, s: LinkCommon & MacvlanFields, field: string): Promise<object> {
  if (s.link === undefined) throw new SpecError(`${field}.link: required (the lower device, a name or index)`);
  return {
    link: await h.linkIndex(s.link, `${field}.link`),
    mode: MODES[oneOf(s.mode ?? 'bridge', `${field}.mode`, Object.keys(MODES) as MacvlanMode[])],
  };
}

defineLinkKind('macvlan', prepare);
defineLinkKind('macvtap', prepare);
