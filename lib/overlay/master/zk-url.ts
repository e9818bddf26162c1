// A ZooKeeper URL (zk://[user:password@]host:port[,host:port...][/path]) as Mesos' zookeeper::URL
// reads it: where the masters' election and store live. In a file of its own so that what only
// needs the URL (the agent's and the plugin's `master`) does not load the master's whole config.
import { ConfigError } from './fields.js';

export interface ZkSpec {
  /** "host:port,host:port" */
  servers: string;
  /** The znode under which the master keeps its state (upstream URL path + "/overlay-master"). */
  root: string;
  /** "user:password" for digest authentication, when the URL had one. */
  auth?: string;
  sessionTimeoutMs: number;
  /** The URL as given (file:// already resolved), for logs with the credentials hidden. */
  display: string;
}

/** zk://[user:pass@]host:port[,host:port...][/path], as Mesos' zookeeper::URL. */
export function parseZkUrl(url: string, sessionTimeoutMs: number): ZkSpec {
  const m = /^zk:\/\/(?:([^@/]+)@)?([^/@]+?)(\/[^\s]*)?$/.exec(url.trim());
  const servers = m?.[2]?.split(',') ?? [];
  if (!m || servers.length === 0 || !servers.every((s) => /^(?:[A-Za-z0-9.-]+|\[[0-9a-fA-F:.]+\]):\d{1,5}$/.test(s))) {
    throw new ConfigError(`Error parsing ZooKeeper URL: expected zk://[user:password@]host:port[,host:port...][/path], got ${JSON.stringify(url.trim())}`);
  }
  const path = (m[3] ?? '').replace(/\/+$/, '');
  if (path && !/^(\/[A-Za-z0-9_.:-]+)+$/.test(path)) throw new ConfigError(`Error parsing ZooKeeper URL: bad path ${JSON.stringify(path)}`);
  const auth = m[1];
  return {
    servers: servers.join(','),
    root: `${path}/overlay-master`,
    ...(auth !== undefined && { auth }),
    sessionTimeoutMs,
    display: `zk://${auth ? '***@' : ''}${servers.join(',')}${path}`,
  };
}
