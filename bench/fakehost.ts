// One side of a plugin benchmark: a fake host namespace and the namespaces of its containers.
// Every namespace is registered in `live` as it is made (attach.ts's addNs), so the SIGINT/SIGTERM
// handler (CI runs the bench under `timeout`) removes it too; removeHosts deletes containers first,
// then the hosts.
import { basename } from 'node:path';
import * as netns from '../lib/netns/index.js';
import { addNs, live } from './attach.js';

export interface FakeHost {
  /** The host namespace's path, opened as `ns` (the plugins run in it). */
  path: string;
  ns: netns.Netns;
  /** Container namespace paths, in order. */
  ctrs: string[];
}

/** `<name>` and `n` containers named `<ctrPrefix><i>`; on failure it removes what it made. */
export async function fakeHost(name: string, ctrPrefix: string, n: number): Promise<FakeHost> {
  const path = await addNs(name);
  const host: FakeHost = { path, ns: await netns.open(path), ctrs: [] };
  try {
    await addContainers(host, ctrPrefix, n);
  } catch (e) {
    await removeHosts([host]);
    throw e;
  }
  return host;
}

/** More container namespaces for a host (`<ctrPrefix><i>`, i continuing its numbering); returns their paths. */
export async function addContainers(host: FakeHost, ctrPrefix: string, n: number): Promise<string[]> {
  const start = host.ctrs.length;
  for (let i = start; i < start + n; i++) host.ctrs.push(await addNs(`${ctrPrefix}${i}`));
  return host.ctrs.slice(start);
}

/** Delete every container namespace, then the hosts; never throws (it runs in finally blocks). */
export async function removeHosts(hosts: readonly (FakeHost | undefined)[]): Promise<void> {
  const del = async (p: string) => {
    await netns.del(p).catch(() => undefined);
    live.delete(basename(p));
  };
  for (const h of hosts) for (const c of h?.ctrs ?? []) await del(c);
  for (const h of hosts) {
    if (!h) continue;
    h.ns.close();
    await del(h.path);
  }
}
