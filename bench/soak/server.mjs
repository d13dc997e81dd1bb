#!/usr/bin/env node
/**
 * One soak server, run as a child process so the soak can kill -9 it, SIGSTOP it and restart it on
 * the same port. It echoes every data request (see protocol.mjs), answers nothing to no-reply ones,
 * and appends the id of every data request it receives to a log file (u32le each), flushed once
 * per turn of the event loop, so the counts survive a kill -9 (all but the last turn's).
 *
 *   node bench/soak/server.mjs <port> <log file>
 *
 * IPC from the parent:
 *   { cmd: 'fault', fault, every, times }  apply `fault` (a @iproto/server/testing Fault) to every
 *                                          `every`-th data request, `times` times
 *   { cmd: 'clear' }                       remove the faults (answers { event: 'cleared', fired })
 *   { cmd: 'mark' }                        remember the received count (answers { event: 'marked' })
 *   { cmd: 'stats' }                       answers { event: 'stats', received, marks }
 *   { cmd: 'stop' }                        flush, close, exit 0
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { startTestServer } from '@iproto/server/testing';
import { idOf, isData, isNoReply } from './protocol.mjs';

const port = Number(process.argv[2] ?? 0);
const logPath = process.argv[3];
const fd = logPath ? openSync(logPath, 'a') : undefined;

const batch = new Uint32Array(16384);
let batched = 0;
let flushScheduled = false;
let received = 0;
/** Requests the current faults were applied to. */
let fired = 0;
const marks = [];

function flush() {
  flushScheduled = false;
  if (batched === 0 || fd === undefined) return;
  writeSync(fd, Buffer.from(batch.buffer, 0, batched * 4));
  batched = 0;
}

const server = await startTestServer({
  port,
  handler: (request) => (isNoReply(request.msg) ? undefined : request.body),
});
// Clients come and go (and the parent kills them off): their errors are expected, not fatal.
server.on('error', () => {});
server.on('request', (frame) => {
  if (!isData(frame.msg)) return;
  received++;
  batch[batched++] = idOf(frame.msg);
  if (batched === batch.length) flush();
  else if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flush);
  }
});

process.on('message', (message) => {
  switch (message.cmd) {
    case 'fault': {
      const every = message.every ?? 1;
      let seen = 0;
      server.faults.add(message.fault, {
        times: message.times,
        when: (request) => {
          if (!isData(request.msg) || isNoReply(request.msg) || ++seen % every !== 0) return false;
          fired++;
          return true;
        },
      });
      process.send({ event: 'fault added' });
      return;
    }
    case 'clear':
      server.faults.clear();
      process.send({ event: 'cleared', fired });
      fired = 0;
      return;
    case 'mark':
      marks.push(received);
      process.send({ event: 'marked', received });
      return;
    case 'stats':
      process.send({ event: 'stats', received, marks });
      return;
    case 'stop':
      flush();
      server.close().then(() => {
        if (fd !== undefined) closeSync(fd);
        process.exit(0);
      });
      return;
    default:
      process.send({ event: 'error', message: `unknown command ${message.cmd}` });
  }
});
// The parent going away (killed, crashed) must not leave this server running.
process.on('disconnect', () => process.exit(0));

process.send({ event: 'ready', port: server.port });
