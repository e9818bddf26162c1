// An nf_tables listing runs at nice 19 and gives its thread back at the priority it had: children
// spawned later (on the same lane of threads) never inherit nice 19, even where the priority cannot
// be raised again (no CAP_SYS_NICE), because the thread that could not restore it is retired.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { namespaces, rootTest } from '../../helpers/fixture.js';

const execFileP = promisify(execFile);
const child = fileURLToPath(new URL('./nft-priority-child.js', import.meta.url));

interface Report {
  sysNice: boolean;
  nice: number[];
}

async function run(argv: string[]): Promise<Report> {
  const { stdout } = await execFileP(argv[0]!, argv.slice(1), { timeout: 30_000 });
  return JSON.parse(stdout) as Report;
}

rootTest('children spawned after nf_tables listings run at nice 0', async (t) => {
  const [a] = await namespaces(t, 1, 'np');
  t.deepEqual(await run([process.execPath, child, a!.path]), { sysNice: true, nice: Array.from({ length: 10 }, () => 0) });
});

rootTest('without CAP_SYS_NICE, children spawned after nf_tables listings still run at nice 0', async (t) => {
  const [a] = await namespaces(t, 1, 'np');
  // Root without CAP_SYS_NICE: the listing can lower its thread's priority but not raise it back.
  const report = await run(['setpriv', '--bounding-set', '-sys_nice', '--inh-caps', '-sys_nice', process.execPath, child, a!.path]);
  t.deepEqual(report, { sysNice: false, nice: Array.from({ length: 10 }, () => 0) });
});
