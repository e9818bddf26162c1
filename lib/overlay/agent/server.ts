// `mesos-overlay-agent` / `mesos-cni overlay-agent`: load agent.json, start the agent in this
// process's network namespace, serve its HTTP endpoint. SIGTERM stops talking to the master and
// exits 0, leaving the VTEP, routes, neighbours, FDB entries, rules, CNI files and Docker networks
// exactly as they are: a restart never interrupts traffic.
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { current } from '../../netns/index.js';
import { untilSignal } from '../daemon.js';
import { OverlayAgent } from './agent.js';
import { loadAgentConfig, type AgentConfig } from './config.js';
import { createAgentApi } from './http.js';

export interface RunningAgent {
  agent: OverlayAgent;
  server: Server;
  port: number;
  stop(): Promise<void>;
}

export async function startAgent(config: AgentConfig, log: Logger): Promise<RunningAgent> {
  const ns = current();
  const agent = await OverlayAgent.start({ config, ns, log });
  const server = createAgentApi(agent);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.listen.port, config.listen.host, () => (server.off('error', reject), resolve()));
    });
  } catch (e) {
    await agent.stop();
    ns.close();
    throw new Error(`listen ${config.listen.host}:${config.listen.port}: ${(e as Error).message}`);
  }
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.listen.port;
  log.info({ listen: `${config.listen.host}:${port}`, master: config.master.display, ip: agent.ip ?? null, dataplane: config.dataplane }, 'listening');
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      server.close();
      server.closeAllConnections();
      await agent.stop();
      ns.close();
    })());
  return { agent, server, port, stop };
}

/** The daemon: runs until SIGTERM/SIGINT. */
export async function runOverlayAgent(opts: { config: string; log: Logger }): Promise<void> {
  const { log } = opts;
  // One bad event must never take the daemon (and the overlay's control) down.
  process.on('unhandledRejection', (e) => log.error({ err: (e as Error)?.stack ?? String(e) }, 'unhandled rejection (kept running)'));
  process.on('uncaughtException', (e) => log.error({ err: e.stack ?? String(e) }, 'uncaught exception (kept running)'));
  const config = await loadAgentConfig(opts.config);
  const running = await startAgent(config, log);
  await untilSignal(log, running.stop, 'stopping (the data plane stays as it is)');
  log.info('stopped');
}
