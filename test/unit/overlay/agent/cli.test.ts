// The agent's two command lines as installed: bin mesos-overlay-agent and `mesos-cni overlay-agent`
// (the package's bundled `mesos-cni`, an ES module that carries the ZooKeeper client inside).
import test from 'ava';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);
const bin = (f: string) => fileURLToPath(new URL(`../../../../bin/${f}`, import.meta.url));

async function run(file: string, args: string[]): Promise<{ code: number; out: string }> {
  try {
    const r = await execFileP(process.execPath, [bin(file), ...args], { timeout: 20_000 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, out: x.stdout + x.stderr };
  }
}

for (const [file, verb] of [['mesos-overlay-agent.cjs', []], ['mesos-cni.bundle.mjs', ['overlay-agent']]] as const) {
  test(`${file} ${verb.join(' ')}: --help, and an unreadable config is refused with exit 1`, async (t) => {
    const help = await run(file, [...verb, '--help']);
    t.is(help.code, 0);
    t.regex(help.out, /^usage: mesos-overlay-agent --config agent\.json/);
    const bad = await run(file, [...verb, '--config', '/nonexistent/agent.json']);
    t.is(bad.code, 1);
    t.regex(bad.out, /Unable to read the Agent configuration: \/nonexistent\/agent\.json: ENOENT/);
    t.regex(bad.out, /"msg":"not starting"/, 'the fatal line in the log (stderr)');
  });
}

test('mesos-cni overlay-master runs from the bundled ES module too', async (t) => {
  const help = await run('mesos-cni.bundle.mjs', ['overlay-master', '--help']);
  t.is(help.code, 0, help.out);
  t.regex(help.out, /^usage: mesos-overlay-master/);
});
