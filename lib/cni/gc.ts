// GC (CNI 1.1): the attachments a runtime says are still valid, read from the config it sends. A
// plugin releases what belongs to its network and is not listed; with no list at all it releases
// nothing (a runtime that sent none said nothing about what is stale).
import { isObject, type NetConf } from './config.js';
import { configError } from './errors.js';

export const VALID_ATTACHMENTS = 'cni.dev/valid-attachments';

export interface Attachment {
  containerID: string;
  ifname: string;
}

/** The still-valid attachments a GC was given, or undefined when the key is absent (release nothing). */
export class ValidAttachments {
  readonly #keys: Set<string>;
  readonly #ids: Set<string>;
  constructor(readonly list: readonly Attachment[]) {
    this.#keys = new Set(list.map((a) => `${a.containerID}\n${a.ifname}`));
    this.#ids = new Set(list.map((a) => a.containerID));
  }

  /** Whether the attachment (container ID, interface name) is still valid. */
  has(containerId: string, ifname: string): boolean {
    return this.#keys.has(`${containerId}\n${ifname}`);
  }

  /** Whether any attachment of this container is still valid (for state kept per container, not per interface). */
  hasContainer(containerId: string): boolean {
    return this.#ids.has(containerId);
  }
}

/** Parse `cni.dev/valid-attachments` of a GC config: undefined when absent; code 7 naming the field when malformed. */
export function validAttachments(conf: NetConf): ValidAttachments | undefined {
  const v = conf[VALID_ATTACHMENTS];
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw configError(VALID_ATTACHMENTS, 'an array of {containerID, ifname}', v);
  return new ValidAttachments(
    v.map((a, i) => {
      if (!isObject(a) || typeof a.containerID !== 'string' || typeof a.ifname !== 'string') {
        throw configError(`${VALID_ATTACHMENTS}[${i}]`, 'an object {containerID, ifname} of strings', a);
      }
      return { containerID: a.containerID, ifname: a.ifname };
    }),
  );
}
