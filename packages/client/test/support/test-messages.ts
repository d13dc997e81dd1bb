/**
 * A messages module for the registry tests: `import * as messages from './test-messages.js'` is
 * how an application hands its message classes to the client (the seed's `prefix`).
 */
import { pack } from '@iproto/pack';
import { defineMessage } from '../../src/define-message.js';
import { Request } from '../../src/request.js';
import { Response } from '../../src/response.js';

export const ADD = 30;

export class AddRequest extends Request<AddResponse> {
  static override readonly msg = ADD;
  constructor(
    readonly a: number,
    readonly b: number,
  ) {
    super();
  }
  protected override encode() {
    return pack('L L', this.a, this.b);
  }
}

export class AddResponse extends Response<AddRequest> {
  static override readonly msg = ADD;
  readonly first: number;
  readonly second: number;
  constructor(data: Buffer | undefined, request: AddRequest) {
    super(data, request);
    [this.first, this.second] = this.unpack('L L') as [number, number];
  }
}

export const Name = defineMessage({
  msg: 31,
  request: { template: 'w/a*', fields: ['name'] as const },
  response: { template: 'w/a*', fields: ['name'] as const },
});

export const notAMessage = 'ignored by the registry';
