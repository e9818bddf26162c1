// resolv.conf → CNI dns (nameserver, domain, search, options), as the reference plugin reads it.
import { readRegularFile } from '../../fs/read.js';
import type { Dns } from '../../cni/result.js';
import { CniError, ErrorCode } from '../../cni/errors.js';

export function parseResolvConf(text: string): Dns {
  const dns: Dns = {};
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [key, ...rest] = line.split(/\s+/);
    if (!key || rest.length === 0) continue;
    if (key === 'nameserver') (dns.nameservers ??= []).push(rest[0]!);
    else if (key === 'domain') dns.domain = rest[0]!;
    else if (key === 'search') dns.search = rest;
    else if (key === 'options') (dns.options ??= []).push(...rest);
  }
  return dns;
}

export async function readResolvConf(path: string): Promise<Dns> {
  try {
    return parseResolvConf(readRegularFile(path));
  } catch (e) {
    throw new CniError(ErrorCode.IoFailure, `ipam.resolvConf: cannot read ${path}`, (e as Error).message);
  }
}
