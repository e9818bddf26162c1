// `mesos-cni demo`: inside its own fake host namespace (never the machine's), attach a container
// namespace through a real network (our bridge + host-local, exec'd the way Mesos execs them),
// show its address, reach it, detach, and remove everything — also on failure and Ctrl-C.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as netns from '../netns/index.js';
import { install } from './install.js';
import { mesosStdin, networkInfo } from '../cni/mesos.js';

const say = (s: string) => console.log(s);

export async function runDemo(): Promise<number> {
  const tag = `mcni-demo-${process.pid.toString(36)}`;
  const created: string[] = [];
  const opened: netns.Netns[] = [];
  let dir: string | undefined;
  const cleanup = async () => {
    for (const ns of opened.splice(0)) ns.close();
    for (const name of created.splice(0).reverse()) await netns.del(name).catch((e: Error) => console.error(`cleanup ${name}: ${e.message}`));
    if (dir) await rm(dir, { recursive: true, force: true });
  };
  const onSignal = () => void cleanup().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    dir = await mkdtemp(join(tmpdir(), 'mesos-cni-demo-'));
    const hostPath = await netns.add(`${tag}-host`);
    created.push(hostPath);
    const ctrPath = await netns.add(`${tag}-ctr`);
    created.push(ctrPath);
    const host = await netns.open(hostPath);
    opened.push(host);
    say(`fake host netns  ${hostPath}\ncontainer netns  ${ctrPath}`);

    const bin = join(dir, 'bin');
    await install(bin, ['bridge', 'host-local']);
    const conf = {
      name: 'demo-net',
      type: 'bridge',
      bridge: 'mcni-demo0',
      isGateway: true,
      ipMasq: true,
      ipam: { type: 'host-local', subnet: '10.123.0.0/24', routes: [{ dst: '0.0.0.0/0' }], dataDir: join(dir, 'ipam') },
    };
    say(`network config   ${JSON.stringify(conf)}`);
    // Exactly what the Mesos agent sends: network_info in args, stout JSON, no CNI_ARGS.
    const stdin = mesosStdin(conf, networkInfo('demo-net', { app: 'demo' }, [{ host_port: 8080, container_port: 80, protocol: 'tcp' }]));
    await writeFile(join(dir, 'network.conf'), stdin);
    const env = (command: string) => ({ PATH: process.env.PATH, CNI_COMMAND: command, CNI_CONTAINERID: 'demo-container-1', CNI_NETNS: ctrPath, CNI_IFNAME: 'eth0', CNI_PATH: bin });

    let t = performance.now();
    const add = await netns.execInNetns(host, join(bin, 'bridge'), [], { stdin, env: env('ADD') });
    say(`\nADD (${(performance.now() - t).toFixed(1)} ms, bridge → host-local in-process) answered:\n  ${add.stdout.trim()}`);
    const ip = (JSON.parse(add.stdout) as { ip4: { ip: string } }).ip4.ip.split('/')[0]!;
    const shown = await netns.execInNetns(await netns.open(ctrPath).then((n) => (opened.push(n), n)), 'ip', ['-brief', 'addr', 'show', 'eth0']);
    say(`container sees   ${shown.stdout.trim()}`);

    t = performance.now();
    await netns.execInNetns(host, 'ping', ['-c', '2', '-i', '0.2', '-W', '2', ip]);
    say(`host → ${ip}: reachable (ping, ${(performance.now() - t).toFixed(0)} ms)`);

    t = performance.now();
    await netns.execInNetns(host, join(bin, 'bridge'), [], { stdin, env: env('DEL') });
    say(`\nDEL (${(performance.now() - t).toFixed(1)} ms): container detached, lease released, rules removed`);
    const left = await netns.execInNetns(host, 'iptables-save', ['-t', 'nat']);
    say(`rules left       ${left.stdout.includes('demo-container-1') ? 'SOME (unexpected)' : 'none'}`);
    return left.stdout.includes('demo-container-1') ? 1 : 0;
  } catch (e) {
    console.error(`demo failed: ${(e as Error).message}`);
    return 1;
  } finally {
    await cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    say('cleaned up: namespaces, bridge, temp files');
  }
}
