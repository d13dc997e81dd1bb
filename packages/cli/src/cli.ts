#!/usr/bin/env node
import { processIO } from './io.js';
import { main } from './main.js';

// SIGINT / SIGTERM stop long-running commands (serve, bench) gracefully; a second one forces exit.
const controller = new AbortController();
const stop = () => {
  if (controller.signal.aborted) process.exit(130);
  controller.abort();
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

main(process.argv.slice(2), processIO(controller.signal)).then((code) => {
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  process.exitCode = code;
});
