// The body of a worker_thread for worker-thread.test.ts: loads the library in the worker and
// works in one namespace (netlink, sysctl, a spawned child), then reports what it saw.
import { parentPort, workerData } from 'node:worker_threads';
import { NetlinkHandle } from '../../../lib/netlink/index.js';
import * as netns from '../../../lib/netns/index.js';

export interface WorkerJob {
  path: string;
  prefix: string;
  count: number;
  /** Post 'busy' with the adds still in flight and never report: the test terminates the worker. */
  abandon?: boolean;
  /** Post 'busy', then list links and read a sysctl forever: the test terminates the worker at a
   * random point, often inside a native call. */
  loop?: boolean;
}
export interface WorkerReport {
  links: string[];
  ttl: string;
  spawned: string;
}

const job = workerData as WorkerJob;
const ns = await netns.open(job.path);
const nl = await NetlinkHandle.open(ns);
if (job.loop) {
  parentPort!.postMessage('busy');
  for (;;) {
    await Promise.allSettled(Array.from({ length: 20 }, (_, i) => (i % 2 ? nl.link.list() : netns.sysctl.get(ns, 'net.ipv4.ip_default_ttl'))));
  }
}
const adds = Array.from({ length: job.count }, (_, i) => nl.link.add({ kind: 'veth', name: `${job.prefix}${i}`, peer: { name: `${job.prefix}${i}p` } }));
if (job.abandon) {
  parentPort!.postMessage('busy');
  await Promise.allSettled(adds);
} else {
  await Promise.all(adds);
  const report: WorkerReport = {
    links: (await nl.link.list()).map((l) => l.name).filter((n) => n.startsWith(job.prefix)),
    ttl: await netns.sysctl.get(ns, 'net.ipv4.ip_default_ttl'),
    spawned: (await netns.execInNetns(ns, 'cat', ['/proc/sys/net/ipv4/ip_default_ttl'])).stdout.trim(),
  };
  nl.close();
  ns.close();
  parentPort!.postMessage(report);
}
