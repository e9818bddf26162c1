// Where the daemon listens, made safe before it does: the socket's directory must belong to us and
// be writable by no one else (anyone who could write there could swap in their own socket and
// receive every CNI request, or take ours away); a stale socket is removed, a live one refused.
import { connect } from 'node:net';
import { lstat, mkdir, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

export const DEFAULT_SOCKET = '/run/mesos-cni/daemon.sock';

function mode(m: number): string {
  return (m & 0o7777).toString(8).padStart(4, '0');
}

/** True when something accepts connections on `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** Check (and create, 0700) the socket's directory; clear a stale socket. Throws why it refuses. */
export async function prepareSocketPath(path: string): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const d = await lstat(dir);
  const uid = process.getuid?.() ?? 0;
  if (!d.isDirectory()) throw new Error(`socket directory ${dir} is not a directory: refusing`);
  if (d.uid !== uid) throw new Error(`socket directory ${dir} belongs to uid ${d.uid}, not ${uid}: refusing`);
  if (d.mode & 0o022) throw new Error(`socket directory ${dir} is writable by others (mode ${mode(d.mode)}): refusing`);
  let s;
  try {
    s = await lstat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (!s.isSocket()) throw new Error(`socket path ${path} exists and is not a socket: refusing`);
  if (s.uid !== uid) throw new Error(`socket ${path} belongs to uid ${s.uid}, not ${uid}: refusing`);
  if (await answers(path)) throw new Error(`a daemon is already listening on ${path}`);
  await unlink(path);
}
