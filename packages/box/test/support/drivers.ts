/**
 * The two drivers side by side for the parity tests: a recording server, the Perl
 * MR::Tarantool::Box in a child process and our Box, both pointed at that server with the same
 * options (raise off, one select try, 10 s timeout).
 */
import { Box } from '../../src/index.js';
import { type ParityBox, SPACES } from './corpus.js';
import { PerlBox, perlSpace, RecordingServer } from './test-support.js';

/** The `new` command for the Perl driver, with any MR::Tarantool::Box option added or replaced. */
export function perlOptions(address: string, extra: Record<string, unknown> = {}) {
  return {
    op: 'new',
    args: {
      servers: address,
      spaces: SPACES.map(perlSpace),
      default_space: 'users',
      raise: 0,
      select_retry: 1,
      retry_delay: 0.001,
      timeout: 10,
      ...extra,
    },
  };
}

export interface Drivers {
  server: RecordingServer;
  address: string;
  perl: PerlBox;
  box: ParityBox;
  /** What the Perl driver said when it was built (`died` is set when it could not be). */
  created: { died?: unknown };
  close(): Promise<void>;
}

export async function startDrivers(): Promise<Drivers> {
  const server = new RecordingServer();
  const address = await server.listen();
  const perl = new PerlBox();
  const created = await perl.send(perlOptions(address));
  const box: ParityBox = new Box({
    servers: address,
    spaces: SPACES,
    raise: false,
    selectRetry: 1,
    retryDelay: 0,
    timeout: 10_000,
  });
  return {
    server,
    address,
    perl,
    box,
    created,
    async close() {
      await box.close();
      await perl.close();
      await server.close();
    },
  };
}
