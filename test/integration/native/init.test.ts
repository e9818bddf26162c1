// Loading the addon where its home namespace cannot be opened fails the load with the reason,
// instead of loading and leaving every later call pending forever (every worker pins itself to
// that namespace, so none could run a job).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { rootTest } from '../../helpers/fixture.js';

const execFileP = promisify(execFile);
const bindingModule = new URL('../../../lib/native/binding.js', import.meta.url).href;

rootTest('the addon fails to load, naming /proc/thread-self/ns/net, when that cannot be opened: the first call that needs it throws why', async (t) => {
  // The child gets a private mount namespace with an empty tmpfs on /proc, so the addon's open of
  // /proc/thread-self/ns/net fails with ENOENT; no mount is seen outside it, no netns is touched.
  // (The addon is loaded by the first call that needs it, lib/native/binding.ts.)
  const script = `import(${JSON.stringify(bindingModule)}).then((m) => {
    let b;
    try { b = m.binding(); } catch (e) { return console.log(JSON.stringify({ message: e.message, code: e.code })); }
    return b.readSmallFiles('/', 1).then(() => console.log('loaded and answered'), (e) => console.log('loaded, call failed: ' + e.message));
  }, (e) => console.log('import failed: ' + e.message));`;
  const { stdout } = await execFileP(
    'unshare',
    ['--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount -t tmpfs none /proc && exec "$0" --input-type=module -e "$1"', process.execPath, script],
    { timeout: 20_000 },
  );
  t.deepEqual(JSON.parse(stdout) as unknown, {
    message: 'mesos-cni addon: open home netns /proc/thread-self/ns/net: No such file or directory',
    code: 'ENOENT',
  });
});
