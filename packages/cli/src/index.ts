/** The ping message code the commands default to (the one the cluster's health probe sends). */
export { PING_MSG } from '@iproto/cluster';
export {
  type BenchOptions,
  type BenchProgress,
  type BenchRequest,
  type BenchResult,
  DEFAULT_BENCH_COUNT,
  runBench,
} from './bench/run-bench.js';
export { CLI_ERROR_CODES, CliError, type CliErrorCode, ExitCode } from './cli-error.js';
export { formatBenchTable } from './commands/bench.js';
export { type DecodedFrame, type DecodeOptions, decodeCapture } from './commands/decode.js';
export { type PingOptions, type PingResult, pingServer } from './commands/ping.js';
export { createServer, DEFAULT_SERVE_SPACES, parseSpace, type ServeOptions } from './commands/serve.js';
export type { JsonError } from './error-output.js';
export { COMMAND_HELP, type CommandName, GENERAL_HELP } from './help.js';
export { Histogram } from './histogram.js';
export type { CliIO } from './io.js';
export { main } from './main.js';
export {
  type Address,
  formatMsg,
  formatValue,
  parseAddress,
  parseAddressList,
  parseValue,
  toJsonValue,
} from './values.js';
export { VERSION } from './version.js';
