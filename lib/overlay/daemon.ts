// What the overlay daemons (master and agent) share as processes: the command line (--config,
// --log-level, --log-file) with the `not starting` line for an error before serving, and running
// until SIGTERM or SIGINT.
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { createDaemonLogger } from '../daemon/log.js';

export interface DaemonSpec {
  usage: string;
  /** The CLI verb, for messages ("overlay-master"). */
  verb: string;
  /** What --config names ("the master.json"). */
  configFile: string;
  run(opts: { config: string; log: Logger }): Promise<void>;
}

export async function daemonMain(args: string[], d: DaemonSpec): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string' }, 'log-level': { type: 'string' }, 'log-file': { type: 'string' }, help: { type: 'boolean' } } });
  if (values.help) {
    console.log(d.usage);
    return 0;
  }
  if (!values.config) throw new Error(`${d.verb}: --config is required (${d.configFile})\n${d.usage}`);
  const log = createDaemonLogger({ level: values['log-level'] ?? process.env.MESOS_CNI_LOG ?? 'info', file: values['log-file'] });
  try {
    await d.run({ config: values.config, log });
  } catch (e) {
    // Config errors and refusals end here: logged for the journal, and the exit status says so.
    log.fatal({ err: (e as Error).message }, 'not starting');
    throw e;
  }
  return 0;
}

/** Resolves once SIGTERM or SIGINT came and `stop` finished (or failed, logged). */
export function untilSignal(log: Logger, stop: () => Promise<void>, note = 'stopping'): Promise<void> {
  return new Promise<void>((resolve) => {
    const onSignal = (sig: string) => {
      log.info({ signal: sig }, note);
      stop().then(resolve, (e: Error) => (log.error({ err: e.message }, 'stop failed'), resolve()));
    };
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
  });
}
