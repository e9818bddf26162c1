// Command line of the overlay agent, shared by bin/mesos-overlay-agent and `mesos-cni overlay-agent`.
import { daemonMain } from '../daemon.js';
import { runOverlayAgent } from './server.js';

export const USAGE = 'usage: mesos-overlay-agent --config agent.json [--log-level info] [--log-file FILE]';

export function overlayAgentMain(args: string[]): Promise<number> {
  return daemonMain(args, { usage: USAGE, verb: 'overlay-agent', configFile: 'the agent.json', run: runOverlayAgent });
}
