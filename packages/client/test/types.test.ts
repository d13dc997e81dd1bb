import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { expect, it } from 'vitest';

/**
 * The type tests in test/types/*.test-d.ts (`expectTypeOf` assertions and `@ts-expect-error` lines, which fail
 * when they stop being errors) compiled by tsc with the package's strict options: any error fails.
 */
it('the type tests in test/types compile without errors', () => {
  const dir = fileURLToPath(new URL('./types/', import.meta.url));
  const configPath = fileURLToPath(new URL('../tsconfig.json', import.meta.url));
  const config = ts.getParsedCommandLineOfConfigFile(
    configPath,
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  if (config === undefined) throw new Error('no tsconfig');
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.test-d.ts'))
    .map((name) => dir + name);
  expect(files.length).toBeGreaterThanOrEqual(3);
  const program = ts.createProgram(files, { ...config.options, noEmit: true });
  const errors = ts.getPreEmitDiagnostics(program).map((d) => {
    const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    if (d.file === undefined || d.start === undefined) return text;
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    return `${d.file.fileName}:${line + 1}:${character + 1}: ${text}`;
  });
  expect(errors).toEqual([]);
}, 60_000);
