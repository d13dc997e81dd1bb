import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { formatWithOptions } from 'node:util';

/** One fenced ```ts or ```js block of a package README. */
export interface ReadmeBlock {
  /** The package directory name, e.g. `framing`. */
  pkg: string;
  /** 1-based line of the opening fence, for test names and failures. */
  line: number;
  code: string;
}

const NOT_A_TEST = '<!-- not-a-test -->';

/**
 * The runnable code blocks of packages/<pkg>/README.md, in order. A block whose opening fence
 * follows a `<!-- not-a-test -->` line (an API listing, say) is left out.
 */
export function readmeBlocks(
  pkg: string,
  path = fileURLToPath(new URL(`../../packages/${pkg}/README.md`, import.meta.url)),
): ReadmeBlock[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const blocks: ReadmeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(\w*)$/.exec(lines[i]);
    if (fence === null) continue;
    const end = lines.indexOf('```', i + 1);
    if (end < 0) throw new Error(`${path}:${i + 1}: unclosed code block`);
    if ((fence[1] === 'ts' || fence[1] === 'js') && lines[i - 1]?.trim() !== NOT_A_TEST) {
      blocks.push({ pkg, line: i + 1, code: lines.slice(i + 1, end).join('\n') });
    }
    i = end;
  }
  return blocks;
}

/**
 * What a block says it prints: the comment lines after a `// prints:` (or `// prints, for ...:`)
 * line when it has one, one per printed line; otherwise the trailing comment of each `console.log(...); // text` line.
 */
export function expectedOutput(code: string): string[] {
  const lines = code.split('\n');
  const start = lines.findIndex((line) => /^\s*\/\/ prints\b.*:$/.test(line));
  if (start >= 0) {
    const printed: string[] = [];
    for (const line of lines.slice(start + 1)) {
      const m = /^\s*\/\/ ?(.*)$/.exec(line);
      if (m === null) break;
      printed.push(m[1]);
    }
    return printed;
  }
  return [...code.matchAll(/console\.log\(.*\); \/\/ (.*)$/gm)].map((m) => m[1]);
}

/** A printed line matches its expectation exactly, `…` standing for any text. */
export function matchesLine(actual: string, expected: string): boolean {
  const parts = expected.split('…').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*')}$`, 's').test(actual);
}

export interface RunOptions {
  /** Values the block uses without declaring them (a fragment): bound as consts before it runs. */
  context?: Record<string, unknown>;
  /** Literal text replacements (a file name for a temporary path, say). */
  replace?: Record<string, string>;
}

const globals = globalThis as Record<string, unknown>;
let counter = 0;

/**
 * Runs a block as a module of its own (imports of `@iproto/*` resolve through the vitest aliases to
 * the packages' sources) and returns what it printed with `console.log`, one string per call,
 * formatted as `console.log` would.
 */
export async function runBlock(block: ReadmeBlock, options: RunOptions = {}): Promise<string[]> {
  const logged: string[] = [];
  const id = `${block.pkg}-${block.line}-${++counter}`;
  globals.__readmeLog = (...args: unknown[]) => logged.push(formatWithOptions({}, ...args));
  globals.__readmeContext = options.context ?? {};
  let code = block.code.replaceAll('console.log(', '__readmeLog(');
  for (const [from, to] of Object.entries(options.replace ?? {})) code = code.replaceAll(from, to);
  const names = Object.keys(options.context ?? {});
  // Bound once, so a callback that runs after the module has finished still logs. Imports are
  // hoisted anyway, so these lines can go first.
  code = `const { __readmeLog, __readmeContext: { ${names.join(', ')} } } = globalThis;\n${code}`;
  const dir = await mkdtemp(join(tmpdir(), 'iproto-package-readme-'));
  try {
    const file = join(dir, `${id}.ts`);
    await writeFile(file, code);
    await import(/* @vite-ignore */ pathToFileURL(file).href);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return logged;
}
