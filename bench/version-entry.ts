// The smallest "plugin": load the library (and with it the addon), answer CNI VERSION. The start-up
// benchmark uses it to separate the library's own loading cost from a real plugin's.
import { writeSync } from 'node:fs';
import { netns } from '../lib/index.js';

if (typeof netns.current !== 'function') throw new Error('library not loaded');
// A plain write, as lib/cni/skel.ts does: process.stdout would load net and stream.
writeSync(1, JSON.stringify({ cniVersion: '1.1.0', supportedVersions: ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] }) + '\n');
