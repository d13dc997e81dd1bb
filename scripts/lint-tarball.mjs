// publint and Are The Types Wrong over one packed tarball, the bytes a user installs: every message
// either reports (publint suggestions and ATTW problems included) counts as a failure.
import { readFile } from 'node:fs/promises';
import { checkPackage, createPackageFromTarballData } from '@arethetypeswrong/core';
import { problemKindInfo } from '@arethetypeswrong/core/problems';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

/** publint's messages, each as `level: text`. */
export async function publintTarball(tarball) {
  const bytes = await readFile(tarball);
  const data = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const { messages, pkg } = await publint({ pack: { tarball: data }, level: 'suggestion', strict: true });
  return messages.map((message) => `${message.type}: ${formatMessage(message, pkg, { color: false })}`);
}

/** Are The Types Wrong's problems for every entrypoint under node10, node16 (CJS and ESM) and bundler. */
export async function attwTarball(tarball) {
  const result = await checkPackage(createPackageFromTarballData(new Uint8Array(await readFile(tarball))));
  if (result.types === false) return ['no types'];
  return result.problems.map((problem) => {
    const where = [problem.entrypoint, problem.resolutionKind].filter(Boolean).join(' ');
    return `${problemKindInfo[problem.kind]?.title ?? problem.kind}${where ? ` (${where})` : ''}`;
  });
}
