// A Docker Engine (Debian's docker.io dockerd) inside a fake host's network namespace, all of it
// under one temp dir: its own data root (vfs), exec root, pid file and socket; no default bridge,
// iptables only inside that namespace. Never the machine's daemon or /var/run/docker.sock. The
// test talks to it over its socket with the Engine API; a busybox image is imported from a rootfs
// built from Debian's busybox-static (no registry is reachable). close() removes the containers,
// stops the daemon, kills anything left of it by pid, unmounts and deletes the dir.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { requestJson, type JsonReply } from '../../../lib/overlay/agent/http-json.js';

const execFileP = promisify(execFile);
export const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'].find(existsSync);
export const IMAGE = 'mcni-busybox:latest';

/** Why dockerd cannot be tested here, or '' when it can. */
export function dockerMissing(): string {
  if (!existsSync('/usr/sbin/dockerd')) return 'dockerd not installed (Debian docker.io)';
  if (!BUSYBOX) return 'busybox not installed (Debian busybox-static)';
  return '';
}

export class Dockerd {
  #proc: ChildProcess | undefined;
  readonly socket: string;

  private constructor(readonly dir: string) {
    this.socket = join(dir, 'docker.sock');
  }

  /** Start dockerd in the namespace at `nsPath`; resolves when /_ping answers. */
  static async start(nsPath: string, dir: string): Promise<Dockerd> {
    mkdirSync(dir, { recursive: true });
    const d = new Dockerd(dir);
    writeFileSync(join(dir, 'daemon.json'), '{}');
    // nsenter --net only: `ip netns exec` would also remount /sys, hiding the cgroup mounts dockerd needs.
    d.#proc = spawn(
      'nsenter',
      [`--net=${nsPath}`, '/usr/sbin/dockerd', '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '--pidfile', join(dir, 'docker.pid'), '-H', `unix://${d.socket}`, '--storage-driver', 'vfs', '--bridge', 'none', '--ip-masq=false', '--userland-proxy=false', '--config-file', join(dir, 'daemon.json')],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let err = '';
    d.#proc.stderr!.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-20000)));
    d.#proc.on('exit', () => writeFileSync(join(dir, 'dockerd.log'), err));
    const end = Date.now() + 60_000;
    for (;;) {
      const ok = await requestJson({ socketPath: d.socket }, '/_ping', { timeoutMs: 2000 }).then((r) => r.status === 200, () => false);
      if (ok) return d;
      if (d.#proc.exitCode !== null || Date.now() > end) {
        await d.close();
        throw new Error(`dockerd did not start (exit ${d.#proc.exitCode}): ${err.split('\n').slice(-5).join(' | ')}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  api(method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<JsonReply> {
    return requestJson({ socketPath: this.socket }, path, { method, body, timeoutMs });
  }

  /** `docker import` of a rootfs holding busybox and its applets. */
  async importBusybox(): Promise<void> {
    const root = join(this.dir, 'rootfs');
    mkdirSync(join(root, 'bin'), { recursive: true });
    copyFileSync(BUSYBOX!, join(root, 'bin', 'busybox'));
    for (const a of ['sh', 'ping', 'nc', 'sleep', 'timeout', 'echo', 'ip', 'cat']) symlinkSync('busybox', join(root, 'bin', a));
    const tar = join(this.dir, 'rootfs.tar');
    await execFileP('tar', ['-C', root, '-cf', tar, '.']);
    const [repo, tag] = IMAGE.split(':');
    const r = await requestJson({ socketPath: this.socket }, `/images/create?fromSrc=-&repo=${repo}&tag=${tag}`, { method: 'POST', raw: { data: readFileSync(tar), type: 'application/x-tar' }, timeoutMs: 60_000 });
    if (r.status !== 200) throw new Error(`import ${IMAGE}: ${r.status} ${r.text}`);
  }

  /** Run `cmd` in a new container on `network`; waits for it and returns its exit code and output. */
  async run(name: string, network: string, cmd: string[], timeoutMs = 30_000): Promise<{ code: number; out: string; ip: string }> {
    const c = await this.api('POST', `/containers/create?name=${name}`, { Image: IMAGE, Cmd: cmd, HostConfig: { NetworkMode: network } });
    if (c.status !== 201) throw new Error(`create container: ${c.status} ${c.text}`);
    const id = c.json<{ Id: string }>().Id;
    const s = await this.api('POST', `/containers/${id}/start`);
    if (s.status !== 204) throw new Error(`start container: ${s.status} ${s.text}`);
    const info = (await this.api('GET', `/containers/${id}/json`)).json<{ NetworkSettings: { Networks: Record<string, { IPAddress: string }> } }>();
    const w = await this.api('POST', `/containers/${id}/wait`, undefined, timeoutMs);
    const logs = await requestJson({ socketPath: this.socket }, `/containers/${id}/logs?stdout=1&stderr=1`, { timeoutMs: 10_000 });
    return { code: w.json<{ StatusCode: number }>().StatusCode, out: demux(logs.bytes), ip: info.NetworkSettings.Networks[network]?.IPAddress ?? '' };
  }

  async close(): Promise<void> {
    const list = await this.api('GET', '/containers/json?all=1', undefined, 5000).catch(() => undefined);
    for (const c of list?.status === 200 ? list.json<{ Id: string }[]>() : []) await this.api('DELETE', `/containers/${c.Id}?force=1`, undefined, 15_000).catch(() => {});
    const p = this.#proc;
    if (p && p.exitCode === null && p.signalCode === null) {
      const gone = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      const t = setTimeout(() => p.kill('SIGKILL'), 15_000);
      await gone;
      clearTimeout(t);
    }
    // containerd and shims it started, found by our dir in their command line: ours alone.
    for (const pid of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
      let cmd = '';
      try {
        cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        continue;
      }
      if (cmd.includes(this.dir)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    // Mounts dockerd left under our dir (container shm, netns files), deepest first.
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4] ?? '')
      .filter((m) => m.startsWith(this.dir))
      .sort((a, b) => b.length - a.length);
    for (const m of mounts) await execFileP('umount', ['-l', m]).catch(() => {});
    if (!process.env.KEEP_HOSTS_DIR) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Docker's multiplexed log stream (8-byte frame headers) → text. */
function demux(b: Buffer): string {
  let out = '';
  for (let i = 0; i + 8 <= b.length; ) {
    const n = b.readUInt32BE(i + 4);
    out += b.subarray(i + 8, i + 8 + n).toString('utf8');
    i += 8 + n;
  }
  return out;
}
