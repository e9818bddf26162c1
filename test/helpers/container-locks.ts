// Loaded into every ava worker (package.json, ava.require). A container's lock file
// (/run/mesos-cni/containers/<id>) stays while the container is attached and goes with its DEL;
// tests that attach and then simply delete their namespaces leave it. When a worker exits, the
// lock files made since it started that nobody holds are removed, each while this process holds
// it, as a DEL removes its own (lockers check the file they locked is still the one at the path).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CONTAINER_LOCK_DIR } from '../../lib/cni/container-lock.js';
import { native } from '../../lib/native/index.js';

const started = Date.now();

process.on('exit', () => {
  let names: string[];
  try {
    names = readdirSync(CONTAINER_LOCK_DIR);
  } catch {
    return; // no such directory (or not root): nothing of ours there
  }
  for (const name of names) {
    const path = join(CONTAINER_LOCK_DIR, name);
    try {
      if (statSync(path).ctimeMs < started) continue; // older than this worker: not ours to touch
      const fd = native.fileTryLock(path);
      if (fd >= 0) native.fileUnlock(fd, path);
    } catch {
      // gone meanwhile, or held: left as it is
    }
  }
});
