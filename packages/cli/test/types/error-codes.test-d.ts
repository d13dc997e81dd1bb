import type { BoxErrorCode } from '@iproto/box';
import type { FrameErrorCode } from '@iproto/framing';
import type { PackErrorCodeValue } from '@iproto/pack';
import { expectTypeOf } from 'vitest';
import { CLI_ERROR_CODES, type CliError, type CliErrorCode, type JsonError } from '../../src/index.js';

declare const error: CliError;

// The code is a closed union: the CLI's own two, then the codes of the layers below, each a closed
// union of its own; the switch is exhaustive.
function kind(code: CliErrorCode): string {
  switch (code) {
    case 'ERR_CLI_USAGE':
      return 'usage';
    case 'ERR_CLI_FAILURE':
      return 'failure';
    case 'ERR_PACK_TEMPLATE':
    case 'ERR_PACK_VALUE':
    case 'ERR_PACK_DATA':
    case 'ERR_PACK_UNSUPPORTED':
    case 'ERR_PACK_LIMIT':
      return 'pack';
    case 'ERR_FRAME_TRUNCATED':
      return 'frame';
    default: {
      const rest: Exclude<BoxErrorCode, 'ERR_FRAME_TRUNCATED'> = code;
      return rest;
    }
  }
}
kind(error.code);

expectTypeOf(error.code).toEqualTypeOf<CliErrorCode>();
expectTypeOf<JsonError['error']['code']>().toEqualTypeOf<CliErrorCode>();
expectTypeOf(CLI_ERROR_CODES).toEqualTypeOf<readonly CliErrorCode[]>();
expectTypeOf<Exclude<CliErrorCode, BoxErrorCode | PackErrorCodeValue | FrameErrorCode>>().toEqualTypeOf<
  'ERR_CLI_USAGE' | 'ERR_CLI_FAILURE'
>();
// @ts-expect-error no CliError has this code
if (error.code === 'ERR_CLI_USAG') throw error;
// @ts-expect-error the code is read-only and chosen by the error
error.code = 'ERR_CLI_USAGE';
