#!/usr/bin/env node
// The overlay agent daemon (docs/overlay-agent.md).
import { overlayAgentMain } from '../lib/overlay/agent/main.js';
await overlayAgentMain(process.argv.slice(2)).then((code) => (process.exitCode = code), (e: Error) => (console.error(`mesos-overlay-agent: ${e.message}`), (process.exitCode = 1)));
