// The port mapper's error codes (Mesos' port_mapper.hpp): every failure it reports carries one of
// these, so an agent or operator reading the old plugin's codes reads ours the same way.
import { CniError } from '../../cni/errors.js';

export const Code = {
  /** stdin could not be read. */
  ReadFailure: 100,
  /** Environment or configuration is wrong. */
  BadArgs: 101,
  /** The delegate plugin failed or answered something unusable. */
  DelegateFailure: 102,
  /** iptables refused a change. */
  PortMapFailure: 103,
  /** A command other than ADD, DEL, CHECK (and VERSION, answered before any check). */
  UnsupportedCommand: 104,
} as const;

export const badArgs = (msg: string): CniError => new CniError(Code.BadArgs, msg);
