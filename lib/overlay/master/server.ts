// `mesos-overlay-master` / `mesos-cni overlay-master`: load master.json, open the store, serve
// HTTP. Structured logs (pino); SIGTERM stops accepting, answers parked watches and exits 0; the
// state survives kill -9 (every acknowledged change was written before it was answered).
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { loadMasterConfig, type MasterConfig } from './config.js';
import { untilSignal } from '../daemon.js';
import { createApi } from './http.js';
import { OverlayMaster } from './master.js';
import { createStore } from './store/index.js';

export interface RunningMaster {
  master: OverlayMaster;
  server: Server;
  /** The port actually bound (listen port 0 picks one). */
  port: number;
  stop(): Promise<void>;
}

export async function startMaster(cfg: MasterConfig, log: Logger): Promise<RunningMaster> {
  const store = await createStore(cfg, log);
  const master = new OverlayMaster(cfg, store, log);
  const server = createApi(master);
  // Listen first: while the store is loading or electing, requests get a 503 rather than nothing.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.listen.port, cfg.listen.host, () => (server.off('error', reject), resolve()));
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : cfg.listen.port;
  log.info({ listen: `${cfg.listen.host}:${port}`, advertise: cfg.advertise, store: store.kind, location: store.location }, 'listening');
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      server.close();
      await master.close();
      server.closeIdleConnections();
      const t = setTimeout(() => server.closeAllConnections(), 2000);
      await new Promise<void>((r) => server.once('close', () => r()).close(() => r()));
      clearTimeout(t);
    })());
  try {
    await master.start();
  } catch (e) {
    await stop();
    throw e;
  }
  return { master, server, port, stop };
}

/** The daemon: runs until SIGTERM/SIGINT. */
export async function runOverlayMaster(opts: { config: string; log: Logger }): Promise<void> {
  const { log } = opts;
  process.on('unhandledRejection', (e) => log.error({ err: (e as Error)?.stack ?? String(e) }, 'unhandled rejection (kept running)'));
  const cfg = await loadMasterConfig(opts.config);
  const running = await startMaster(cfg, log);
  await untilSignal(log, running.stop);
  log.info('stopped');
}
