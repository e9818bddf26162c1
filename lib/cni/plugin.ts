// What a plugin is to the skel: a type name and handlers per command, each given a context.
import type { Command, CniEnv } from './env.js';
import type { NetConf } from './config.js';
import type { AnyResult } from './result.js';
import type { Delegator, OnAddresses } from './invoke.js';
import type { Logger } from './log.js';
import type { ValidAttachments } from './gc.js';
import type { Netns } from '../netns/netns.js';

export interface PluginContext {
  command: Command;
  env: CniEnv;
  /** CNI_NETNS, opened (undefined for a DEL whose namespace is gone or was not given). */
  netns: Netns | undefined;
  /** stdin decoded (shared fields checked; the plugin's parseConfig checks its own). */
  conf: NetConf;
  /** stdin as received, for plugins that pass it on unchanged (IPAM gets the whole config). */
  stdin: Buffer;
  /** Runs delegates by type (in-process when they are ours); DEL passes releaseAfter on. */
  delegate: Delegator;
  /**
   * DEL only, set when a meta plugin of ours calls this one in-process: settles once the caller
   * has removed what still points at the attachment's address (the port mapper's DNAT rules).
   * Whoever releases the address (host-local) waits for it and fails with its error; the rest of
   * a DEL (links, the plugin's own rules) runs meanwhile, so the kernel's waits overlap.
   */
  releaseAfter?: PromiseLike<unknown>;
  /**
   * ADD only, set when a meta plugin of ours calls this one in-process: call it once the addresses
   * of the result are fixed (see OnAddresses), so the caller can write what needs only them (the
   * port mapper's DNAT rules) while this ADD finishes its links; push the undo it returns, if any,
   * on the rollback after the address allocation's, so that it runs before the release.
   */
  onAddresses?: OnAddresses;
  /**
   * GC only: the attachments the runtime says are still valid (`cni.dev/valid-attachments`), or
   * undefined when it sent none, in which case nothing may be released.
   */
  validAttachments?: ValidAttachments;
  log: Logger;
}

export interface Plugin {
  /** The CNI type (and executable name). */
  type: string;
  /** Whether the skel opens and checks CNI_NETNS for it (default true; IPAM plugins say false). */
  usesNetns?: boolean;
  /** Versions this plugin accepts in a config; default all. */
  supportedVersions?: readonly string[];
  /**
   * Runs before the skel's own environment and stdin checks (not for VERSION), so a drop-in
   * replacement can answer bad input with its upstream's exact codes and texts.
   */
  preflight?(rawEnv: Record<string, string | undefined>, stdin: Buffer): void;
  /**
   * The plugin's config checks (its parseConfig), run before any command but VERSION and before
   * the netns is opened. What it refuses no ADD ever attached: a DEL of it succeeds (InputError).
   */
  validate?(conf: NetConf, env: CniEnv): void;
  /** The code of the error document when stdin cannot be read (default 5, the spec's I/O failure). */
  readFailureCode?: number;
  /**
   * The document ADD prints for `result` (default: the result in the config's cniVersion). For a
   * plugin whose caller reads one form whatever the config says (Mesos reads only 0.1/0.2 `ip4`).
   */
  answer?(ctx: PluginContext, result: AnyResult): AnyResult;
  add(ctx: PluginContext): Promise<AnyResult>;
  del(ctx: PluginContext): Promise<void>;
  check?(ctx: PluginContext): Promise<void>;
  status?(ctx: PluginContext): Promise<void>;
  gc?(ctx: PluginContext): Promise<void>;
}
