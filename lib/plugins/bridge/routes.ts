// What the bridge's ADD and CHECK share: a result route as the kernel route it becomes, and the
// IPAM call (the IPAM plugin gets our whole stdin, as the reference passes it: args.cni.ips etc.).
import type { PluginContext } from '../../cni/plugin.js';
import type { AnyResult, IpConfig, Route } from '../../cni/result.js';

export const familyOf = (cidr: string): 4 | 6 => (cidr.includes(':') ? 6 : 4);

/** A result route as the kernel route ConfigureIface makes: the gateway of its family when it has none, its 1.1 attributes. */
export function routeSpec(ifname: string, ips: IpConfig[], r: Route) {
  const family: 4 | 6 = familyOf(r.dst);
  const gw = r.gw ?? ips.find((ip) => familyOf(ip.address) === family)?.gateway;
  const dst = r.dst === '0.0.0.0/0' || r.dst === '::/0' ? 'default' : r.dst;
  return {
    dst,
    family,
    dev: ifname,
    ...(gw ? { gw } : {}),
    ...(r.mtu ? { mtu: r.mtu } : {}),
    ...(r.advmss ? { advmss: r.advmss } : {}),
    ...(r.priority ? { metric: r.priority } : {}),
    ...(r.table ? { table: r.table } : {}),
    ...(r.scope !== undefined ? { scope: r.scope } : {}),
  };
}

export function ipamRun(ctx: PluginContext, command: 'ADD' | 'DEL' | 'CHECK', type: string): Promise<AnyResult | undefined> {
  return ctx.delegate.run(command, { type }, { stdin: ctx.stdin.toString('utf8') });
}

