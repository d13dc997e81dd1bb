#!/usr/bin/env node
// Generates the API reference of every published package with TypeDoc (markdown, from the TSDoc in
// the sources): docs/api/<package>/, one page per entry point (`@iproto/server` and
// `@iproto/server/testing` are two). `pnpm docs:api` runs it; examples/api-docs.test.ts runs it into
// a temporary directory and fails when the committed reference differs.
//
//   node scripts/api-docs.mjs [outDir]    (default: docs/api)
//
// Types imported from a sibling package resolve through its built `dist`, so run `pnpm build` first.
// "Defined in" lines are left out: they name source line numbers, which would make every edit of a
// source file stale the reference.
import { readdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Application, LogLevel } from 'typedoc';

const root = resolve(import.meta.dirname, '..');

/**
 * The published packages and their entry points: each `exports` key but `./package.json`, mapped from
 * `./dist/<path>.d.ts` back to `src/<path>.ts`.
 * @returns {Promise<{ dir: string; name: string; entryPoints: string[] }[]>}
 */
export async function publishedPackages() {
  const packages = [];
  for (const dir of (await readdir(join(root, 'packages'))).sort()) {
    const manifest = JSON.parse(await readFile(join(root, 'packages', dir, 'package.json'), 'utf8'));
    if (manifest.private) continue;
    const entryPoints = Object.entries(manifest.exports)
      .filter(([key]) => key !== './package.json')
      .map(([, target]) => target.import.types.replace(/^\.\/dist\//, 'src/').replace(/\.d\.ts$/, '.ts'))
      .map((path) => join(root, 'packages', dir, path));
    packages.push({ dir, name: manifest.name, entryPoints });
  }
  return packages;
}

/**
 * Writes the reference of one package into `out` (emptied first). Returns TypeDoc's warning and
 * error count, so a caller can fail on them.
 */
async function generate(pkg, out) {
  await rm(out, { recursive: true, force: true });
  const app = await Application.bootstrapWithPlugins({
    name: pkg.name,
    entryPoints: pkg.entryPoints,
    tsconfig: join(root, 'packages', pkg.dir, 'tsconfig.json'),
    plugin: ['typedoc-plugin-markdown'],
    out,
    readme: 'none',
    disableSources: true,
    excludePrivate: true,
    excludeInternal: true,
    // Members inherited from Error, EventEmitter and the like are Node's to document, not ours.
    excludeExternals: true,
    // Type errors are tsc's job (`pnpm typecheck`); checking again here would only double the time.
    skipErrorChecking: true,
    // Every exported declaration has a TSDoc comment (members are documented where they say more
    // than their name and type); a new one without fails `pnpm docs:api` and the test that runs it.
    validation: { notExported: false, invalidLink: true, notDocumented: true },
    requiredToBeDocumented: ['Class', 'Function', 'Interface', 'TypeAlias', 'Variable', 'Enum'],
    logLevel: LogLevel.Warn,
    // typedoc-plugin-markdown: one page per entry point, no breadcrumb line, members as headings.
    outputFileStrategy: 'modules',
    hideBreadcrumbs: true,
    hidePageHeader: true,
    useCodeBlocks: true,
    parametersFormat: 'table',
    enumMembersFormat: 'table',
  });
  const project = await app.convert();
  if (!project) throw new Error(`${pkg.name}: TypeDoc could not convert the sources`);
  app.validate(project);
  await app.generateOutputs(project);
  return app.logger.warningCount + app.logger.errorCount;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const outDir = resolve(process.argv[2] ?? join(root, 'docs', 'api'));
  let problems = 0;
  for (const pkg of await publishedPackages()) {
    problems += await generate(pkg, join(outDir, pkg.dir));
  }
  console.log(`API reference written to ${outDir}`);
  if (problems > 0) {
    console.error(`TypeDoc reported ${problems} warning(s) or error(s); see above`);
    process.exitCode = 1;
  }
}
