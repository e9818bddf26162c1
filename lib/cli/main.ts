// The `mesos-cni` command line: install plugins, run them like a runtime (or like Mesos), the daemon, demo.
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { asCniError } from '../cni/errors.js';
import { DEFAULT_CACHE_DIR, execCommand, parseAttachment, parseLabels, parsePortMapping } from './exec.js';
import { install } from './install.js';

const USAGE = `usage:
  mesos-cni install --cni-bin-dir DIR [--only a,b] [--launcher [--socket PATH]]
    --launcher: the native launcher under each name (daemon first, else the Node entry)
  mesos-cni daemon [--socket PATH] [--log-level info] [--log-file FILE]
  mesos-cni exec add|del|check --config FILE [--netns PATH] [--container-id ID] [--ifname eth0]
                 [--cni-path P] [--args K=V;...] [--mesos] [--mesos-labels k=v,...]
                 [--port-mapping HOST:CONTAINER[/proto] ...] [--mesos-ip-address IP ...] [--cache-dir DIR]
  mesos-cni exec status --config FILE [--cni-path P]
  mesos-cni exec gc --config FILE [--valid-attachment CID/IFNAME ...] [--cni-path P] [--cache-dir DIR]
    --port-mapping goes into network_info.port_mappings with --mesos, else into the
    portMappings capability (runtimeConfig) of plugins that declare it
  mesos-cni overlay-master --config master.json [--log-level info] [--log-file FILE]
  mesos-cni overlay-agent --config agent.json [--log-level info] [--log-file FILE]
  mesos-cni contrail state|network|pool|group … (local mode's objects at the overlay master; 'mesos-cni contrail' for usage)
  mesos-cni demo`;

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === 'install') {
    const { values } = parseArgs({
      args: rest,
      options: { 'cni-bin-dir': { type: 'string' }, only: { type: 'string' }, launcher: { type: 'boolean', default: false }, socket: { type: 'string' } },
    });
    if (!values['cni-bin-dir']) throw new Error('install: --cni-bin-dir is required');
    if (values.socket && !values.launcher) throw new Error('install: --socket needs --launcher');
    const launcher = values.launcher ? { socket: values.socket } : undefined;
    for (const f of await install(values['cni-bin-dir'], values.only?.split(',').filter(Boolean), launcher)) console.log(f);
    return 0;
  }
  if (cmd === 'daemon') {
    const { values } = parseArgs({ args: rest, options: { socket: { type: 'string' }, 'log-level': { type: 'string' }, 'log-file': { type: 'string' } } });
    const { runDaemon } = await import('../daemon/server.js');
    const { createDaemonLogger } = await import('../daemon/log.js');
    const { DEFAULT_SOCKET } = await import('../daemon/socket.js');
    const log = createDaemonLogger({ level: values['log-level'] ?? process.env.MESOS_CNI_LOG ?? 'info', file: values['log-file'] });
    await runDaemon({ socket: values.socket ?? DEFAULT_SOCKET, log });
    return 0;
  }
  if (cmd === 'exec') {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        config: { type: 'string' },
        netns: { type: 'string' },
        'container-id': { type: 'string' },
        ifname: { type: 'string', default: 'eth0' },
        'cni-path': { type: 'string', default: process.env.CNI_PATH ?? '/opt/cni/bin' },
        args: { type: 'string' },
        mesos: { type: 'boolean', default: false },
        'mesos-labels': { type: 'string', default: '' },
        'port-mapping': { type: 'string', multiple: true, default: [] },
        'cache-dir': { type: 'string', default: DEFAULT_CACHE_DIR },
        'valid-attachment': { type: 'string', multiple: true, default: [] },
        'mesos-ip-address': { type: 'string', multiple: true, default: [] },
      },
    });
    const command = positionals[0];
    if (command !== 'add' && command !== 'del' && command !== 'check' && command !== 'gc' && command !== 'status') {
      throw new Error(`exec: expected add, del, check, gc or status, got ${JSON.stringify(command)}\n${USAGE}`);
    }
    if (!values.config) throw new Error('exec: --config is required');
    if ((command === 'add' || command === 'check') && !values.netns) throw new Error(`exec ${command}: --netns is required`);
    if (values['valid-attachment']!.length && command !== 'gc') throw new Error('exec: --valid-attachment is for gc');
    if (values['mesos-labels'] && !values.mesos) throw new Error('exec: --mesos-labels needs --mesos');
    if (values['mesos-ip-address']!.length && !values.mesos) throw new Error('exec: --mesos-ip-address needs --mesos');
    for (const ip of values['mesos-ip-address']!) {
      if (ip !== '' && !isIP(ip)) throw new Error(`exec: --mesos-ip-address: expected an IP address (or "" for any), got ${JSON.stringify(ip)}`);
    }
    try {
      const r = await execCommand({
        command,
        config: values.config,
        netns: values.netns,
        containerId: values['container-id'],
        ifname: values.ifname!,
        cniPath: values['cni-path']!.split(':').filter(Boolean),
        cniArgs: values.args,
        mesos: values.mesos!,
        labels: parseLabels(values['mesos-labels']!),
        portMappings: values['port-mapping']!.map(parsePortMapping),
        cacheDir: values['cache-dir']!,
        valid: values['valid-attachment']!.map(parseAttachment),
        ipAddresses: values['mesos-ip-address']!,
      });
      if (r !== undefined) console.log(JSON.stringify(r, null, 2));
      return 0;
    } catch (e) {
      // A plugin's CNI error is shown as the runtime would log it.
      const err = asCniError(e);
      console.error(`mesos-cni exec ${command}: CNI error ${err.code}: ${err.message}`);
      return 1;
    }
  }
  if (cmd === 'overlay-master') {
    const { overlayMasterMain } = await import('../overlay/master/main.js');
    return overlayMasterMain(rest);
  }
  if (cmd === 'overlay-agent') {
    const { overlayAgentMain } = await import('../overlay/agent/main.js');
    return overlayAgentMain(rest);
  }
  if (cmd === 'contrail') {
    const { contrailMain } = await import('./contrail.js');
    return contrailMain(rest);
  }
  if (cmd === 'demo') {
    const { runDemo } = await import('./demo.js');
    return runDemo();
  }
  console.error(USAGE);
  return cmd === undefined || cmd === 'help' || cmd === '--help' ? 0 : 2;
}
