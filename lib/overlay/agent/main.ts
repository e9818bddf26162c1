// Command line of the overlay agent, shared by bin/mesos-overlay-agent and `mesos-cni overlay-agent`.
import { parseArgs } from 'node:util';
import { createDaemonLogger } from '../../daemon/log.js';
import { runOverlayAgent } from './server.js';

export const USAGE = 'usage: mesos-overlay-agent --config agent.json [--log-level info] [--log-file FILE]';

export async function overlayAgentMain(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string' }, 'log-level': { type: 'string' }, 'log-file': { type: 'string' }, help: { type: 'boolean' } } });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.config) throw new Error(`overlay-agent: --config is required (the agent.json)\n${USAGE}`);
  const log = createDaemonLogger({ level: values['log-level'] ?? process.env.MESOS_CNI_LOG ?? 'info', file: values['log-file'] });
  try {
    await runOverlayAgent({ config: values.config, log });
  } catch (e) {
    // Config errors and a failed ipset set-up end here (upstream: the module is not loaded).
    log.fatal({ err: (e as Error).message }, 'not starting');
    throw e;
  }
  return 0;
}
