// Command line of the overlay master, shared by bin/mesos-overlay-master and `mesos-cni overlay-master`.
import { parseArgs } from 'node:util';
import { createDaemonLogger } from '../../daemon/log.js';
import { runOverlayMaster } from './server.js';

export const USAGE = 'usage: mesos-overlay-master --config master.json [--log-level info] [--log-file FILE]';

export async function overlayMasterMain(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string' }, 'log-level': { type: 'string' }, 'log-file': { type: 'string' }, help: { type: 'boolean' } } });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.config) throw new Error(`overlay-master: --config is required (the master.json)\n${USAGE}`);
  const log = createDaemonLogger({ level: values['log-level'] ?? process.env.MESOS_CNI_LOG ?? 'info', file: values['log-file'] });
  try {
    await runOverlayMaster({ config: values.config, log });
  } catch (e) {
    // Config errors and refusals end here: logged for the journal, and the exit status says so.
    log.fatal({ err: (e as Error).message }, 'not starting');
    throw e;
  }
  return 0;
}
