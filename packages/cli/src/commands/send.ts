import { Cluster } from '@iproto/cluster';
import { Connection } from '@iproto/connection';
import { dumpPacket, encodeFrame, type Frame } from '@iproto/framing';
import { unpack } from '@iproto/pack';
import { CliError, ExitCode } from '../cli-error.js';
import type { CliIO } from '../io.js';
import { parseOptions, stringOption } from '../parse-options.js';
import { readRequestBody } from '../request-body.js';
import {
  checkUnpackTemplate,
  describeError,
  formatAddress,
  formatMsg,
  formatValue,
  parseAddressList,
  parseBalance,
  parseInteger,
  toJsonValue,
} from '../values.js';

export async function sendCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseOptions('send', argv, {
    msg: { type: 'string' },
    pack: { type: 'string' },
    'payload-hex': { type: 'string' },
    unpack: { type: 'string' },
    'no-reply': { type: 'boolean' },
    'no-ints': { type: 'boolean' },
    timeout: { type: 'string' },
    key: { type: 'string' },
    balance: { type: 'string' },
  });
  const [target, ...words] = positionals;
  if (target === undefined)
    throw new CliError('iproto send: no server given (usage: iproto send host:port --msg N)');
  // Validates every address up front, so a typo is a usage error before anything connects.
  const addresses = parseAddressList(target);
  const key = stringOption(values, 'key');
  const balance = parseBalance('send', stringOption(values, 'balance'), key !== undefined);
  const msgText = stringOption(values, 'msg');
  if (msgText === undefined) throw new CliError('iproto send: --msg is required');
  const msg = parseInteger('--msg', msgText);
  const timeout = parseInteger('--timeout', stringOption(values, 'timeout') ?? '2000', 1, 3_600_000);
  const unpackTemplate = stringOption(values, 'unpack');
  const noReply = values['no-reply'] === true;
  const ints = values['no-ints'] !== true;
  if (unpackTemplate !== undefined) checkUnpackTemplate('--unpack', unpackTemplate);
  const body = (await readRequestBody('send', values, words, io)) ?? new Uint8Array(0);

  const connectionOptions = { connectTimeout: timeout, timeout };
  // One server: a plain connection. Several: a cluster, so the pick is the one a Perl
  // MR::IProto::Cluster with the same servers and balance makes for the key.
  let cluster: Cluster | undefined;
  if (addresses.length > 1 || key !== undefined) {
    try {
      // Perl's own string (weights included) goes to the cluster as it is.
      cluster = new Cluster({ servers: target, balance, health: false, ...connectionOptions });
    } catch (error) {
      throw new CliError(`iproto send: bad server list "${target}": ${describeError(error)}`);
    }
  }
  const single = cluster ? undefined : new Connection({ ...addresses[0], ...connectionOptions });
  try {
    const server = cluster?.server(key);
    const name = server ? server.address : formatAddress(addresses[0]);
    const started = process.hrtime.bigint();
    let reply: Frame | undefined;
    try {
      reply = await (server ?? single!).send(msg, body, { noReply, timeout });
    } catch (error) {
      throw new CliError(`iproto send: ${name}: ${describeError(error, name)}`, ExitCode.FAILURE, {
        cause: error,
      });
    }
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (noReply || reply === undefined) {
      if (values.json)
        io.stdout.write(`${JSON.stringify({ sent: true, server: name, msg, len: body.length, time: ms })}\n`);
      else io.stdout.write(`sent msg=${formatMsg(msg)} len=${body.length} to ${name} (no reply expected)\n`);
      return ExitCode.OK;
    }
    return printReply(io, reply, {
      requestMsg: msg,
      ms,
      unpackTemplate,
      ints,
      json: values.json === true,
      server: cluster ? name : undefined,
    });
  } finally {
    await (cluster ?? single!).close().catch(() => {});
  }
}

function printReply(
  io: CliIO,
  reply: Frame,
  options: {
    requestMsg: number;
    ms: number;
    unpackTemplate?: string;
    ints: boolean;
    json: boolean;
    /** The server the cluster picked, when there was a choice. */
    server?: string;
  },
): number {
  let decoded: unknown[] | undefined;
  let decodeError: string | undefined;
  let decodeCause: unknown;
  if (options.unpackTemplate !== undefined) {
    try {
      decoded = unpack(options.unpackTemplate, reply.body);
    } catch (error) {
      decodeCause = error;
      decodeError = `cannot unpack the reply with "${options.unpackTemplate}": ${describeError(error)}`;
    }
  }
  const mismatch =
    reply.msg === options.requestMsg
      ? undefined
      : `reply message code ${formatMsg(reply.msg)} differs from the request's ${formatMsg(options.requestMsg)}`;
  // The whole reply: the user asked for this dump (debug dumps stop at framing's DEFAULT_DUMP_LIMIT).
  const dump = dumpPacket(encodeFrame(reply.msg, reply.sync, reply.body), {
    ints: options.ints,
    limit: Number.POSITIVE_INFINITY,
  });

  if (options.json) {
    io.stdout.write(
      `${JSON.stringify({
        ...(options.server ? { server: options.server } : {}),
        msg: reply.msg,
        sync: reply.sync,
        len: reply.body.length,
        time: options.ms,
        body: Buffer.from(reply.body).toString('hex'),
        ...(decoded ? { values: toJsonValue(decoded) } : {}),
        ...(decodeError || mismatch ? { error: decodeError ?? mismatch } : {}),
      })}\n`,
    );
  } else {
    io.stdout.write(
      `reply msg=${formatMsg(reply.msg)} sync=${reply.sync} len=${reply.body.length} time=${options.ms.toFixed(3)} ms` +
        `${options.server ? ` from ${options.server}` : ''}\n`,
    );
    if (decoded) io.stdout.write(`${decoded.map(formatValue).join(' ')}\n`);
    else io.stdout.write(`${dump}\n`);
  }
  // The reply is printed first: what came back is worth seeing even when it is not what was asked.
  const failure = decodeError ?? mismatch;
  if (failure !== undefined)
    throw new CliError(`iproto send: ${failure}`, ExitCode.FAILURE, { cause: decodeCause });
  return ExitCode.OK;
}
