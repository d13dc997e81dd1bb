import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Connection } from '@iproto/connection';
import { IProtoServer } from '@iproto/server';
import { expect, test } from 'vitest';

const root = resolve(import.meta.dirname, '..');

function markdownFiles(): string[] {
  const docs = readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md'));
  const readmes = readdirSync(join(root, 'packages')).map((dir) => join('packages', dir, 'README.md'));
  return ['README.md', ...docs.map((name) => join('docs', name)), ...readmes];
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => join(dir, name));
}

/**
 * The error texts a page quotes as ours, after an error code in parentheses:
 * `` `ERR_NO_KEY` (`Cannot balance hash without key`) ``. Markdown wraps lines, so a quote may span two.
 * A cause named there (`` `ERR_DESTROYED` (`destroy()` ...) ``) is not a message: a message has words.
 */
function quotedErrorTexts(markdown: string): string[] {
  const text = markdown.replace(/\n\s*/g, ' ');
  const afterCode = /`(?:ERR_[A-Z_]+|E[A-Z]{3,})` \((?:`([^`]+)`|"([^"]+)")/g;
  return [...text.matchAll(afterCode)]
    .map((m) => m[1] ?? m[2])
    .filter((t) => t.trim().split(/\s+/).length >= 3 && /\b[a-z]{3,}\b/.test(t));
}

/**
 * The quoted text as a pattern over the sources (where each `${...}` is one `§`): its words in order
 * with only punctuation between, each word itself or an interpolation (a doc quotes one value of it).
 * Numbers and one-letter placeholders (N, M, A, B) stand for interpolations and are left out.
 */
function pattern(quoted: string): RegExp {
  const words = quoted
    .replace(/\b\d+\b|\b[A-Z]\b/g, ' ')
    .split(/[^A-Za-z0-9_]+/)
    .filter(Boolean);
  return new RegExp(
    words.map((word) => `(?:\\b${word}\\b|§)`).join('[^A-Za-z0-9_§]{0,12}(?:§[^A-Za-z0-9_§]{0,12})?'),
  );
}

const sources = readdirSync(join(root, 'packages'))
  .flatMap((dir) => sourceFiles(join(root, 'packages', dir, 'src')))
  .map((path) => readFileSync(path, 'utf8').replace(/\$\{[^{}]*\}/g, '§'))
  .join('\n');

const quotes = markdownFiles().flatMap((file) =>
  quotedErrorTexts(readFileSync(join(root, file), 'utf8')).map((quoted) => ({ file, quoted })),
);

test('the docs quote error texts (the check below has something to check)', () => {
  expect(quotes.length).toBeGreaterThanOrEqual(5);
});

test.each(quotes)('$file quotes "$quoted": a message the code really throws', ({ quoted }) => {
  expect(sources, `no message in packages/*/src matches ${pattern(quoted)}`).toMatch(pattern(quoted));
});

test('a quoted text one word off a real message fails the check', () => {
  expect(sources).toMatch(pattern('Cannot balance ketama without key'));
  expect(sources).not.toMatch(pattern('Cannot balance hash with no key'));
  expect(sources).not.toMatch(pattern('read timed out after N ms, msg M sync S'));
});

// docs/migration.md shows what a message looks like with a real one: a request past its deadline.
test('docs/migration.md: the example error message is the one a request past its deadline gets', async () => {
  const guide = readFileSync(join(root, 'docs', 'migration.md'), 'utf8');
  const example = /e\.g\. `(\d+\.\d+\.\d+\.\d+:\d+: [^`]+)`/.exec(guide)?.[1];
  expect(example).toBeDefined();
  const server = new IProtoServer();
  server.on(17, () => new Promise<Uint8Array>(() => {}));
  const { port } = await server.listen(0);
  const connection = new Connection({ host: '127.0.0.1', port }, { timeout: 100 });
  try {
    const error = await connection.send(17, Buffer.alloc(0)).then(
      () => expect.fail('the request has no reply and must time out'),
      (e: Error) => e,
    );
    const shape = (text: string) => text.replace(/\d+/g, 'N');
    expect(shape(example!)).toBe(shape(error.message));
  } finally {
    connection.destroy();
    await server.close();
  }
});
