// Command line of the overlay master, shared by bin/mesos-overlay-master and `mesos-cni overlay-master`.
import { daemonMain } from '../daemon.js';
import { runOverlayMaster } from './server.js';

export const USAGE = 'usage: mesos-overlay-master --config master.json [--log-level info] [--log-file FILE]';

export function overlayMasterMain(args: string[]): Promise<number> {
  return daemonMain(args, { usage: USAGE, verb: 'overlay-master', configFile: 'the master.json', run: runOverlayMaster });
}
