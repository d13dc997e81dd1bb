// Compile-time checks for the packages' type tests: a package's test/types/*.test-d.ts files compiled by tsc
// with the package's own strict tsconfig (an `@ts-expect-error` that stops being an error is an
// error), and the type the checker prints for an expression, as an editor's hover shows it.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

function parseConfig(tsconfigPath) {
  const config = ts.getParsedCommandLineOfConfigFile(
    tsconfigPath,
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  if (config === undefined) throw new Error(`cannot read ${tsconfigPath}`);
  return config.options;
}

/** The type tests (`*.test-d.ts`) of `dir`, as absolute paths. */
export function typeTestFiles(dir) {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.test-d.ts'))
    .map((name) => join(dir, name));
}

/** Every diagnostic of compiling `files` under `tsconfigPath`'s options, as `file:line:col: text`. */
export function typeErrors(files, tsconfigPath) {
  const program = ts.createProgram(files, { ...parseConfig(tsconfigPath), noEmit: true });
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    if (d.file === undefined || d.start === undefined) return text;
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    return `${d.file.fileName}:${line + 1}:${character + 1}: ${text}`;
  });
}

/**
 * The type of each variable declared in `file` whose name is in `names`, printed by the checker
 * (`checker.typeToString`): what an editor shows when hovering it.
 */
export function declaredTypes(file, tsconfigPath, names) {
  const program = ts.createProgram([file], { ...parseConfig(tsconfigPath), noEmit: true });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  if (source === undefined) throw new Error(`cannot read ${file}`);
  const wanted = new Set(names);
  const types = {};
  const visit = (node) => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && wanted.has(node.name.text)) {
      types[node.name.text] = checker.typeToString(checker.getTypeAtLocation(node.name));
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return types;
}

/** `f` for `f(...)` and `new f(...)`, `m` for `x.m(...)` and `this.#m(...)`. */
function calleeName(expression) {
  if (ts.isIdentifier(expression)) return expression.text;
  if (ts.isPropertyAccessExpression(expression)) return expression.name.text;
  return undefined;
}

/**
 * Every string literal passed as the first argument of a call to one of `callees` in the `.ts`
 * files under `dir`, with where it is: the codes a package's sources raise. `new X(...)` counts as a
 * call of `X`; `x.m(...)` and `this.#m(...)` as calls of `m` and `#m`. The files are parsed, not
 * matched by a regular expression, so a call spread over lines is found too.
 */
export function firstStringArguments(dir, callees) {
  const wanted = new Set(callees);
  const found = [];
  const files = readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
  for (const file of files) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node) => {
      const callee =
        ts.isCallExpression(node) || ts.isNewExpression(node) ? calleeName(node.expression) : undefined;
      if (callee !== undefined && wanted.has(callee)) {
        const first = node.arguments?.[0];
        if (first !== undefined && ts.isStringLiteralLike(first)) {
          const { line } = source.getLineAndCharacterOfPosition(first.getStart());
          found.push({ callee, code: first.text, where: `${file}:${line + 1}` });
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}
