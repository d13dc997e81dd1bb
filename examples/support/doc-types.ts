import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** The repository root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** One ```ts block of a Markdown file, as a module to type-check. */
export interface DocModule {
  /** The Markdown file, relative to the root (`packages/client/README.md`). */
  doc: string;
  /** 1-based line of the opening fence of the (first) block. */
  line: number;
  /** The module text: the block(s), after a prelude of `prelude` lines. */
  code: string;
  /** Lines put before the block (declarations of a fragment's free names). */
  prelude: number;
  /** For a module made of several blocks: the fence line and module line of each block. */
  parts: { fence: number; start: number }[];
}

/**
 * What a documentation file's fragments use without declaring it, as the tests that run them
 * provide it (the client README's examples after the first ones use a connected `client`, the
 * migration guide's a `servers` string), or as the prose around them introduces it. A name is
 * declared before a block that does not declare it itself.
 */
const FREE_NAMES: Record<string, { imports: string; names: Record<string, string> }> = {
  'packages/client/README.md': {
    imports: "import type { IProto as __IProto } from '@iproto/client';",
    names: { client: '__IProto' },
  },
  'docs/migration.md': {
    imports: "import type { IProto as __IProto, Message as __Message } from '@iproto/client';",
    names: { client: '__IProto', servers: 'string', message: '__Message', m1: '__Message', m2: '__Message' },
  },
};

/** Declarations of the free names `code` uses and does not declare. */
function preludeFor(doc: string, code: string): string {
  const free = FREE_NAMES[doc];
  if (free === undefined) return '';
  const declared = (name: string) =>
    new RegExp(
      `\\b(?:const|let|var|function|class)\\s+${name}\\b|\\bimport\\s+(?:type\\s+)?\\{[^}]*\\b${name}\\b[^}]*\\}`,
    ).test(code);
  const used = (name: string) => new RegExp(`\\b${name}\\b`).test(code);
  const lines = Object.entries(free.names)
    .filter(([name]) => used(name) && !declared(name))
    .map(([name, type]) => `declare const ${name}: ${type};`);
  return lines.length === 0 ? '' : [free.imports, ...lines].join('\n');
}

/** Files whose ```ts blocks run as one module, in order (a tour), so they are checked as one. */
const ONE_MODULE = new Set(['README.md']);

/** Every Markdown file whose ```ts blocks are checked: the root README, the package READMEs, docs. */
export function docFiles(root = ROOT): string[] {
  const packages = readdirSync(join(root, 'packages'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => `packages/${entry.name}/README.md`)
    .filter((path) => exists(join(root, path)));
  const docs = readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`);
  return ['README.md', ...packages, ...docs].sort();
}

function exists(path: string): boolean {
  try {
    readFileSync(path);
    return true;
  } catch {
    return false;
  }
}

/** The ```ts blocks of one Markdown text, with the 1-based line of each opening fence. */
export function tsBlocks(text: string, where: string): { line: number; code: string }[] {
  const lines = text.split('\n');
  const blocks: { line: number; code: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(\S*)/.exec(lines[i]);
    if (fence === null) continue;
    const end = lines.indexOf('```', i + 1);
    if (end < 0) throw new Error(`${where}:${i + 1}: unclosed code block`);
    if (fence[1] === 'ts' || fence[1] === 'typescript') {
      blocks.push({ line: i + 1, code: lines.slice(i + 1, end).join('\n') });
    }
    i = end;
  }
  return blocks;
}

/** The modules to check for one documentation file. */
export function docModules(doc: string, text: string): DocModule[] {
  const blocks = tsBlocks(text, doc);
  if (blocks.length === 0) return [];
  if (ONE_MODULE.has(doc)) {
    const parts: DocModule['parts'] = [];
    let start = 0;
    for (const block of blocks) {
      parts.push({ fence: block.line, start });
      start += block.code.split('\n').length;
    }
    return [{ doc, line: blocks[0].line, code: blocks.map((b) => b.code).join('\n'), prelude: 0, parts }];
  }
  return blocks.map((block) => {
    const prelude = preludeFor(doc, block.code);
    const preludeLines = prelude === '' ? 0 : prelude.split('\n').length;
    return {
      doc,
      line: block.line,
      // `export {}` keeps a block without imports a module (top-level await, its own scope).
      code: `${prelude}${prelude === '' ? '' : '\n'}${block.code}\nexport {};\n`,
      prelude: preludeLines,
      parts: [{ fence: block.line, start: preludeLines }],
    };
  });
}

/** The Markdown line a module line (0-based) comes from. */
function docLine(module: DocModule, moduleLine: number): number {
  let part = module.parts[0];
  for (const candidate of module.parts) if (candidate.start <= moduleLine) part = candidate;
  return part.fence + 1 + (moduleLine - part.start);
}

/**
 * Compiler options of the check: strict, ESM, and `@iproto/*` resolved to the built packages'
 * type declarations (`packages/<name>/dist`), as a user of the published packages sees them.
 */
export function checkOptions(root = ROOT): ts.CompilerOptions {
  return {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2022.d.ts'],
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: ['node'],
    typeRoots: [join(root, 'node_modules/@types')],
    skipLibCheck: true,
    esModuleInterop: true,
    noUnusedLocals: false,
    baseUrl: root,
    paths: {
      '@iproto/server/testing': ['packages/server/dist/testing/index.d.ts'],
      '@iproto/*': ['packages/*/dist/index.d.ts'],
    },
  };
}

export interface DocError {
  /** `docs/migration.md:120:7` */
  where: string;
  message: string;
}

/**
 * Type-checks the given modules as one program (one `tsc` run for every block) and returns each
 * error with the Markdown file, line and column it comes from.
 */
export function typeCheckDocs(modules: DocModule[], root = ROOT): DocError[] {
  const dir = join(root, 'examples', '.doc-blocks');
  const byFile = new Map<string, DocModule>();
  modules.forEach((module, index) => {
    const name = `${module.doc.replace(/[/.]/g, '_')}_L${module.line}_${index}.mts`;
    byFile.set(join(dir, name), module);
  });
  const options = checkOptions(root);
  const host = ts.createCompilerHost(options, true);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (file) => byFile.has(file) || fileExists.call(host, file);
  host.readFile = (file) => byFile.get(file)?.code ?? readFile.call(host, file);
  host.getSourceFile = (file, language, onError, create) => {
    const module = byFile.get(file);
    if (module !== undefined) return ts.createSourceFile(file, module.code, language, true);
    return getSourceFile.call(host, file, language, onError, create);
  };
  const program = ts.createProgram([...byFile.keys()], options, host);
  const diagnostics = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()];
  for (const file of byFile.keys()) {
    const source = program.getSourceFile(file);
    if (source === undefined) throw new Error(`doc types: ${file} was not part of the program`);
    diagnostics.push(...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source));
  }
  return diagnostics.map((diagnostic) => {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    const file = diagnostic.file;
    if (file === undefined || diagnostic.start === undefined) return { where: '(program)', message };
    const module = byFile.get(file.fileName);
    const { line, character } = file.getLineAndCharacterOfPosition(diagnostic.start);
    if (module === undefined) {
      return { where: `${relative(root, file.fileName)}:${line + 1}:${character + 1}`, message };
    }
    if (line < module.prelude) return { where: `${module.doc}:${module.line} (prelude)`, message };
    return { where: `${module.doc}:${docLine(module, line)}:${character + 1}`, message };
  });
}

/** Every documentation module of the repository. */
export function allDocModules(root = ROOT): DocModule[] {
  return docFiles(root).flatMap((doc) => docModules(doc, readFileSync(join(root, doc), 'utf8')));
}
