// Sending a diff to the kernel. A change (a few peers) is one netlink request. A large one (a
// start, a recreated VTEP, hundreds of peers at once) is cut after its order-sensitive head
// (deletes and the VTEP's addresses, sent first and awaited) into requests of CHUNK ops, two in
// flight: the addon encodes on the main thread and the kernel applies on a worker, so the next
// chunk is encoded while the kernel works on the current one. The tail's ops are independent of
// each other (neighbours, FDB entries, routes whose gateways are already on-link, rules), so
// their order does not matter. docs/overlay-agent.md has the measurements.
import type { NetlinkHandle, Op } from '../../../netlink/index.js';

export const CHUNK = 512;

const headOp = (o: Op) => o.op.endsWith('.del') || o.op.startsWith('addr.');

/** Apply `ops` (as diffPlanes orders them); rejects with the first failure. Returns the requests sent. */
export async function applyOps(nl: NetlinkHandle, ops: Op[]): Promise<number> {
  if (ops.length <= CHUNK) {
    if (ops.length > 0) await nl.request(ops);
    return ops.length > 0 ? 1 : 0;
  }
  let head = 0;
  while (head < ops.length && headOp(ops[head]!)) head++;
  let sent = 0;
  if (head > 0) {
    await nl.request(ops.slice(0, head));
    sent++;
  }
  let prev: Promise<unknown> | undefined;
  for (let i = head; i < ops.length; i += CHUNK) {
    const cur = nl.request(ops.slice(i, i + CHUNK));
    // Observed below, or dropped when an earlier chunk failed (the next full reconcile reads the kernel).
    cur.catch(() => undefined);
    sent++;
    if (prev) await prev;
    prev = cur;
  }
  await prev;
  return sent;
}
