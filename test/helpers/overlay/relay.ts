// Runs inside a test namespace (`ip netns exec`): serves <dir>/<port>.sock for each port and pipes
// every connection to 127.0.0.1:<port> there. Unix socket paths are not namespaced, so a test
// process in the root namespace reaches loopback services inside the test namespace this way
// without a single change to the root namespace. Exits when its parent closes stdin.
import { connect, createServer } from 'node:net';
import { join } from 'node:path';

const [dir, ...ports] = process.argv.slice(2);
for (const p of ports) {
  createServer((c) => {
    const u = connect(Number(p), '127.0.0.1');
    c.pipe(u).on('error', () => c.destroy());
    u.pipe(c).on('error', () => u.destroy());
    c.on('error', () => u.destroy());
    u.on('error', () => c.destroy());
    c.on('close', () => u.destroy());
    u.on('close', () => c.destroy());
  }).listen({ path: join(dir!, `${p}.sock`), backlog: 4096 });
}
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
console.log('ready');
