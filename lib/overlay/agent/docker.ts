// The Docker Engine API over its unix socket (no docker CLI on the host): the two calls the agent
// makes, `docker network inspect` and `docker network create` with upstream's options. Unversioned
// paths, so any Engine from 1.12 on answers with its own API version.
import { requestJson } from './http-json.js';

export interface DockerNetworkSpec {
  name: string;
  /** The Linux bridge's name (`d-<overlay>`). */
  bridge: string;
  mtu: number;
  subnet?: string;
  /** Set only with IPv6 enabled: the network gets `EnableIPv6` and this subnet. */
  subnet6?: string;
}

export class DockerError extends Error {
  override name = 'DockerError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** Docker answers errors as {"message": "..."}. */
function reason(status: number, text: string): string {
  try {
    const m = (JSON.parse(text) as { message?: unknown }).message;
    if (typeof m === 'string') return m;
  } catch {
    // not JSON: the text itself
  }
  return `HTTP ${status}${text ? `: ${text.trim().slice(0, 300)}` : ''}`;
}

export class DockerClient {
  constructor(
    readonly socketPath: string,
    readonly timeoutMs: number,
  ) {}

  /** `docker network inspect NAME`: its JSON, or undefined when there is no such network. */
  async inspectNetwork(name: string): Promise<Record<string, unknown> | undefined> {
    const r = await requestJson({ socketPath: this.socketPath }, `/networks/${encodeURIComponent(name)}`, { timeoutMs: this.timeoutMs });
    if (r.status === 404) return undefined;
    if (r.status !== 200) throw new DockerError(`inspect docker network ${name}: ${reason(r.status, r.text)}`, r.status);
    return r.json<Record<string, unknown>>();
  }

  /**
   * `docker network create --driver=bridge --opt=com.docker.network.bridge.name=<bridge>
   * --opt=com.docker.network.bridge.enable_ip_masquerade=false --opt=com.docker.network.driver.mtu=<mtu>
   * [--subnet=…] [--ipv6 --subnet=…] <name>`, as one API call.
   */
  async createNetwork(s: DockerNetworkSpec): Promise<string> {
    const config = [...(s.subnet ? [{ Subnet: s.subnet }] : []), ...(s.subnet6 ? [{ Subnet: s.subnet6 }] : [])];
    const body = {
      Name: s.name,
      CheckDuplicate: true,
      Driver: 'bridge',
      EnableIPv6: s.subnet6 !== undefined,
      IPAM: { Driver: 'default', Config: config, Options: {} },
      Internal: false,
      Attachable: false,
      Options: {
        'com.docker.network.bridge.name': s.bridge,
        'com.docker.network.bridge.enable_ip_masquerade': 'false',
        'com.docker.network.driver.mtu': String(s.mtu),
      },
      Labels: {},
    };
    const r = await requestJson({ socketPath: this.socketPath }, '/networks/create', { body, timeoutMs: this.timeoutMs });
    if (r.status !== 201 && r.status !== 200) throw new DockerError(`create docker network ${s.name}: ${reason(r.status, r.text)}`, r.status);
    return String(r.json<{ Id?: unknown }>().Id ?? '');
  }
}
