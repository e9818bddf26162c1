// Real traffic between test namespaces: a TCP echo-once server in one, a client in another.
import { spawn, type ChildProcess } from 'node:child_process';
import type { ExecutionContext } from 'ava';
import { nsExec, type TestNs } from './fixture.js';

const SERVER = `
import socket, sys
s = socket.socket(socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(16)
print('ready', flush=True)
while True:
    c, _ = s.accept(); c.sendall(sys.argv[3].encode()); c.close()
`;

/** Serve `reply` to every TCP connection on addr:port inside `ns` until the test ends. */
export async function serveTcp(t: ExecutionContext, ns: TestNs, port: number, reply: string, addr = '0.0.0.0'): Promise<void> {
  const child: ChildProcess = spawn('ip', ['netns', 'exec', ns.name, 'python3', '-c', SERVER, addr, String(port), reply], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`tcp server in ${ns.name} exited with ${code}`)));
  });
}

/** Connect from `ns` to host:port and return what the server sent ('' on failure). */
export async function fetchTcp(ns: TestNs, host: string, port: number): Promise<string> {
  const code = `import socket,sys\ns=socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)\nprint(s.recv(100).decode(), end='')`;
  try {
    return await nsExec(ns, ['python3', '-c', code, host, String(port)]);
  } catch {
    return '';
  }
}
