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
// `iproto decode big.bin | head` closes the pipe early: that is the reader's choice, not a failure.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});
process.on('SIGTERM', stop);

main(process.argv.slice(2), processIO(controller.signal)).then((code) => {
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  process.exitCode = code;
});
