#!/usr/bin/env node
// Checks every published package the way a user meets it: packs each one, reads the tarball, installs
// all tarballs together into a fresh project with no registry reachable, then loads every entry from
// ESM and CJS, runs the `iproto` bin and type-checks a consumer under `moduleResolution: node16`.
// Each tarball also goes through publint and Are The Types Wrong (scripts/lint-tarball.mjs).
// Run after `pnpm build` (`pnpm test` builds first). Exits 1 when any check fails; prints a table.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { attwTarball, publintTarball } from './lint-tarball.mjs';

const run = promisify(execFile);
/** Where the packages live; package.json `repository`, `homepage`, `bugs` and README links point here. */
const REPOSITORY = 'https://github.com/iproto-js/iproto';
const root = resolve(import.meta.dirname, '..');
const keep = process.argv.includes('--keep');

// Runtime names each entry must export, from docs/architecture.md and the design (values: 'function'
// for functions and classes, or the expected typeof).
const EXPECTED = {
  '@iproto/pack': { pack: 'function', unpack: 'function', compile: 'function', PackError: 'function' },
  '@iproto/framing': {
    HEADER_SIZE: 'number',
    DEFAULT_MAX_FRAME_SIZE: 'number',
    encodeHeader: 'function',
    decodeHeader: 'function',
    encodeFrame: 'function',
    FrameDecoder: 'function',
    FrameWriter: 'function',
    dumpPacket: 'function',
    parseCapture: 'function',
    FrameError: 'function',
  },
  '@iproto/server': { IProtoServer: 'function' },
  '@iproto/server/testing': { startTestServer: 'function', listenBlackhole: 'function' },
  '@iproto/connection': { Connection: 'function', IProtoError: 'function', isIProtoError: 'function' },
  '@iproto/cluster': {
    Cluster: 'function',
    crc32: 'function',
    RR: 'string',
    HASH: 'string',
    KETAMA: 'string',
  },
  '@iproto/client': {
    IProto: 'function',
    IProtoError: 'function',
    isIProtoError: 'function',
    AbortError: 'function',
    pack: 'function',
    unpack: 'function',
    compile: 'function',
    PackError: 'function',
    Cluster: 'function',
    HASH: 'string',
  },
  '@iproto/box': { Box: 'function', BoxError: 'function' },
  '@iproto/cli': { main: 'function' },
};

/** @type {{ pkg: string; check: string; ok: boolean; detail: string }[]} */
const results = [];
function record(pkg, check, ok, detail = '') {
  results.push({ pkg, check, ok, detail });
}

async function sh(cmd, args, options = {}) {
  try {
    const { stdout, stderr } = await run(cmd, args, { maxBuffer: 64 * 1024 * 1024, ...options });
    return { code: 0, stdout, stderr };
  } catch (error) {
    return { code: error.code ?? 1, stdout: error.stdout ?? '', stderr: error.stderr ?? String(error) };
  }
}

let npmCache = '';
/** npm's environment: an unreachable registry and a fresh cache, so any network need fails fast. */
function npmEnv() {
  const env = {
    ...process.env,
    npm_config_registry: 'http://127.0.0.1:9/',
    npm_config_cache: npmCache,
    npm_config_fetch_retries: '0',
    npm_config_fetch_timeout: '5000',
  };
  for (const key of Object.keys(env)) if (/^npm_(package|lifecycle)_/.test(key)) delete env[key];
  return env;
}

/** `npm install` of local tarballs into `cwd`, never reaching a registry. */
async function npmInstall(cwd, tarballs) {
  await writeFile(
    join(cwd, 'package.json'),
    `${JSON.stringify({ name: 'iproto-consumer', version: '1.0.0', private: true }, null, 2)}\n`,
  );
  const args = ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'];
  args.push(...tarballs);
  return sh('npm', args, { cwd, env: npmEnv(), timeout: 60_000 });
}

/**
 * Bare specifiers (`x`, `@s/x`, `x/sub`) that a built file imports or requires. The specifier must
 * look like a package name, so that a string ending in `from` (box's "select from") is not one.
 */
function bareSpecifiers(code) {
  const found = new Set();
  for (const m of code.matchAll(
    /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^import\s+)["']((?:node:)?(?:@[\w.-]+\/)?\w[\w.-]*(?:\/[\w./-]*)?)["']/gm,
  )) {
    const spec = m[1].replace(/^node:/, '');
    const parts = spec.split('/');
    found.add(spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]);
  }
  return found;
}

/** Every package a built file of `dir` reaches must be a Node builtin, itself or a declared dependency. */
async function checkImports(dir, json) {
  const declared = new Set([json.name, ...Object.keys(json.dependencies ?? {})]);
  const builtins = new Set(builtinModules);
  const undeclared = new Set();
  const walk = async (folder) => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (/\.(c|m)?js$|\.d\.(c|m)?ts$/.test(entry.name)) {
        for (const spec of bareSpecifiers(await readFile(path, 'utf8'))) {
          if (!builtins.has(spec) && !declared.has(spec)) undeclared.add(`${spec} (${entry.name})`);
        }
      }
    }
  };
  await walk(join(dir, 'dist'));
  record(
    json.name,
    'dist/*.js and *.d.ts import only builtins + dependencies',
    undeclared.size === 0,
    [...undeclared].join(' '),
  );
}

/** The line of a child's stderr that names the error, not the trailing Node.js version banner. */
function firstError(stderr) {
  const lines = stderr.trim().split('\n');
  const named = lines.find((line) => /^\w*Error\b|^\s*npm (ERR|error)/.test(line));
  return (named ?? lines.find((line) => /Error|ERR_/.test(line)) ?? lines.slice(-3).join(' | '))
    .trim()
    .slice(0, 300);
}

/** Tarballs of `name` and everything it depends on, transitively. */
function closure(name, byName, seen = new Set()) {
  if (seen.has(name) || !byName.has(name)) return seen;
  seen.add(name);
  for (const dep of Object.keys(byName.get(name).packed.dependencies ?? {})) closure(dep, byName, seen);
  return seen;
}

/** Every file path an `exports` map (or a nested condition object) points at, with its condition path. */
function exportTargets(value, where = 'exports') {
  if (typeof value === 'string') return [{ where, target: value }];
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) => exportTargets(inner, `${where}[${key}]`));
}

/** Condition objects whose `types` is present but not first: TypeScript would skip it. */
function typesNotFirst(value, where = 'exports') {
  if (value === null || typeof value !== 'object') return [];
  const keys = Object.keys(value);
  const own = keys.includes('types') && keys[0] !== 'types' ? [where] : [];
  return own.concat(
    Object.entries(value).flatMap(([key, inner]) => typesNotFirst(inner, `${where}[${key}]`)),
  );
}

async function inspectTarball(dir, tarball, source) {
  const name = source.name;
  const listing = await sh('tar', ['-tzf', tarball]);
  const files = listing.stdout
    .split('\n')
    .filter(Boolean)
    .map((file) => file.replace(/^package\//, ''));
  const has = (file) => files.includes(file.replace(/^\.\//, ''));
  const packed = JSON.parse((await sh('tar', ['-xzOf', tarball, 'package/package.json'])).stdout);

  const missing = ['package.json', 'README.md', 'CHANGELOG.md'].filter((file) => !has(file));
  record(name, 'package.json, README, CHANGELOG packed', missing.length === 0, missing.join(' '));
  // A released version a user can depend on, and a CHANGELOG written for them: its entry for this
  // version, no commit hashes, no "Updated dependencies" lists (.changeset/changelog.cjs).
  const changelog = has('CHANGELOG.md')
    ? (await sh('tar', ['-xzOf', tarball, 'package/CHANGELOG.md'])).stdout
    : '';
  const changelogProblems = [
    packed.version === '0.0.0' && 'version 0.0.0',
    !changelog.includes(`\n## ${packed.version}\n`) && `no "## ${packed.version}" entry`,
    /\b[0-9a-f]{7,40}\b/.test(changelog) && 'a commit hash',
    /Updated dependencies/.test(changelog) && '"Updated dependencies"',
  ].filter(Boolean);
  record(
    name,
    'released version with a readable CHANGELOG entry',
    changelogProblems.length === 0,
    changelogProblems.join(', ') || packed.version,
  );
  const dist = files.filter((file) => file.startsWith('dist/'));
  record(name, 'dist packed', dist.length > 0, `${dist.length} dist files`);
  const unwanted = files.filter((file) => /\.(test|spec)\.|(^|\/)(src|test|bench|node_modules)\//.test(file));
  record(name, 'no tests/src/bench packed', unwanted.length === 0, unwanted.slice(0, 5).join(' '));

  const targets = [
    ...exportTargets(packed.exports),
    ...['main', 'module', 'types'].filter((k) => packed[k]).map((k) => ({ where: k, target: packed[k] })),
    ...Object.entries(packed.bin ?? {}).map(([bin, target]) => ({ where: `bin[${bin}]`, target })),
  ];
  const dangling = targets.filter(({ target }) => !has(target));
  record(
    name,
    'exports/main/types/bin targets packed',
    targets.length > 0 && dangling.length === 0,
    dangling.map(({ where, target }) => `${where} -> ${target}`).join(', ') || `${targets.length} targets`,
  );
  const misordered = typesNotFirst(packed.exports);
  record(name, '"types" first in every condition', misordered.length === 0, misordered.join(' '));
  const conditions = exportTargets(packed.exports).map(({ where }) => where);
  const dual = Object.keys(packed.exports ?? {})
    .filter((key) => key !== './package.json')
    .filter(
      (key) => !['import', 'require'].every((c) => conditions.includes(`exports[${key}][${c}][types]`)),
    );
  record(name, 'import+require with own types per entry', dual.length === 0, dual.join(' '));

  record(name, 'engines.node >= 20', packed.engines?.node === '>=20', packed.engines?.node ?? 'none');
  record(name, 'type: module, sideEffects: false', packed.type === 'module' && packed.sideEffects === false);

  const fields = ['dependencies', 'peerDependencies', 'optionalDependencies', 'devDependencies'];
  const workspaceLeft = fields.flatMap((field) =>
    Object.entries(packed[field] ?? {})
      .filter(([, spec]) => String(spec).startsWith('workspace:'))
      .map(([dep]) => `${field}.${dep}`),
  );
  const deps = Object.entries(packed.dependencies ?? {});
  // workspace:^ packs as ^version: a patch release of one package does not install a second copy of it.
  const wrong = deps.filter(
    ([dep, spec]) => !dep.startsWith('@iproto/') || spec !== `^${source.versions[dep]}`,
  );
  record(
    name,
    'workspace:^ replaced; deps only @iproto/* at ^their versions',
    workspaceLeft.length === 0 && wrong.length === 0,
    [...workspaceLeft, ...wrong.map(([dep, spec]) => `${dep}@${spec}`)].join(' ') ||
      deps.map(([dep, spec]) => `${dep.slice(8)}@${spec}`).join(' '),
  );

  // The registry shows the README and these links; a relative link there points nowhere.
  const metadata = [
    packed.repository?.url === `git+${REPOSITORY}.git` && packed.repository?.directory === `packages/${dir}`,
    packed.homepage === `${REPOSITORY}/tree/main/packages/${dir}#readme`,
    packed.bugs?.url === `${REPOSITORY}/issues`,
  ];
  record(name, 'repository (with directory), homepage, bugs', metadata.every(Boolean), metadata.join(' '));
  const readme = (await sh('tar', ['-xzOf', tarball, 'package/README.md'])).stdout;
  const relative = [...readme.matchAll(/\]\(([^)#][^)]*)\)|^\[[^\]]+\]:\s*(\S+)/gm)]
    .map((m) => m[1] ?? m[2])
    .filter((link) => !/^(https?:|mailto:)/.test(link));
  record(name, 'README links are absolute URLs', relative.length === 0, relative.slice(0, 5).join(' '));

  for (const [bin, target] of Object.entries(packed.bin ?? {})) {
    const head = (await sh('tar', ['-xzOf', tarball, `package/${target.replace(/^\.\//, '')}`])).stdout;
    record(name, `bin ${bin} has a node shebang`, head.startsWith('#!/usr/bin/env node'));
  }
  return { dir, tarball, packed };
}

// The ESM side: loads every entry with import(), the CJS copies with createRequire, and checks that the
// brand makes isIProtoError see errors of the other copy, and that the pieces work together on a socket.
const ESM_PROBE = `
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const expected = JSON.parse(process.argv[2]);
const out = [];
const note = (pkg, check, ok, detail = '') => out.push({ pkg, check, ok: Boolean(ok), detail: String(detail) });
const esm = {};
const cjs = {};
for (const [spec, names] of Object.entries(expected)) {
  try {
    esm[spec] = await import(spec);
    const bad = Object.entries(names).filter(([n, t]) => typeof esm[spec][n] !== t).map(([n]) => n);
    note(spec, 'import() named exports', bad.length === 0, bad.length ? 'missing/wrong: ' + bad.join(' ') : Object.keys(names).length + ' names');
  } catch (error) { note(spec, 'import() named exports', false, error.message); }
  try { cjs[spec] = require(spec); } catch (error) { note(spec, 'createRequire() from ESM', false, error.message); }
}
const pack = '@iproto/pack', conn = '@iproto/connection', client = '@iproto/client', framing = '@iproto/framing';
const needed = [pack, conn, client, framing, '@iproto/server', '@iproto/server/testing'];
const absent = needed.filter((spec) => !esm[spec] || !cjs[spec]);
if (absent.length > 0) {
  note('all', 'cross-copy and round-trip probes', false, 'not loadable: ' + absent.join(' '));
  console.log(JSON.stringify(out));
  process.exit(0);
}
const thrown = (fn) => { try { fn(); } catch (error) { return error; } return undefined; };
// Errors thrown by the CJS copy, judged by the ESM copy (and the reverse): the brand must work.
const cjsPackError = thrown(() => cjs[pack].pack('(', 1));
const esmPackError = thrown(() => esm[pack].pack('(', 1));
note(pack, 'PackError thrown (ESM) is instanceof PackError (ESM)', esmPackError instanceof esm[pack].PackError, esmPackError?.code);
note(pack, 'isIProtoError(PackError of CJS copy) from ESM client', esm[client].isIProtoError(cjsPackError), cjsPackError?.code);
const cjsFrameError = thrown(() => new cjs[framing].FrameDecoder({ maxFrameSize: 1 }).push(cjs[framing].encodeFrame(1, 1, Buffer.alloc(8))));
note(framing, 'isIProtoError(FrameError of CJS copy) from ESM', esm[conn].isIProtoError(cjsFrameError), cjsFrameError?.code);
const cjsError = new cjs[conn].IProtoError('ETIMEDOUT', 'probe');
const esmError = new esm[conn].IProtoError('ETIMEDOUT', 'probe');
note(conn, 'isIProtoError across ESM/CJS copies (both ways)', esm[conn].isIProtoError(cjsError) && cjs[conn].isIProtoError(esmError) && cjs[client].isIProtoError(esmError));
note(conn, 'not branded: plain Error', !esm[conn].isIProtoError(new Error('x')) && !cjs[conn].isIProtoError({ code: 'ETIMEDOUT' }));
note(client, 'client re-exports the same IProtoError (ESM)', esm[client].IProtoError === esm[conn].IProtoError);
// Two copies are two classes; each error class's Symbol.hasInstance recognises the other copy's
// errors by brand and name, so instanceof works across them too.
note(conn, 'instanceof IProtoError across ESM/CJS copies (both ways)', cjsError instanceof esm[conn].IProtoError && esmError instanceof cjs[conn].IProtoError);
note(pack, 'instanceof PackError across ESM/CJS copies', cjsPackError instanceof esm[pack].PackError && esmPackError instanceof cjs[pack].PackError);
note(framing, 'instanceof FrameError across ESM/CJS copies', cjsFrameError instanceof esm[framing].FrameError);
note(conn, 'a FrameError is not instanceof IProtoError', !(cjsFrameError instanceof esm[conn].IProtoError));
// The pieces installed together: a test server from ./testing, a Connection, an IProto client.
let server;
try {
  server = await esm['@iproto/server/testing'].startTestServer();
  note('@iproto/server/testing', 'TestServer instanceof IProtoServer (ESM, shared chunk)', server instanceof esm['@iproto/server'].IProtoServer);
  const c = new esm[conn].Connection({ host: server.host, port: server.port });
  const reply = await c.send(7, esm[pack].pack('N', 42));
  note(conn, 'Connection round trip against TestServer (ESM)', reply.msg === 7 && esm[pack].unpack('N', reply.body)[0] === 42);
  await c.close();
  const cc = new cjs[conn].Connection({ host: server.host, port: server.port });
  const creply = await cc.send(8, cjs[pack].pack('N', 43));
  note(conn, 'Connection round trip against TestServer (CJS copy)', creply.msg === 8 && cjs[pack].unpack('N', creply.body)[0] === 43);
  await cc.close();
} catch (error) {
  note(conn, 'round trip against TestServer', false, error.stack);
} finally {
  await server?.close();
}
console.log(JSON.stringify(out));
`;

const CJS_PROBE = `
const expected = JSON.parse(process.argv[2]);
const out = [];
for (const [spec, names] of Object.entries(expected)) {
  try {
    const mod = require(spec);
    const bad = Object.entries(names).filter(([n, t]) => typeof mod[n] !== t).map(([n]) => n);
    out.push({ pkg: spec, check: 'require() named exports', ok: bad.length === 0, detail: bad.length ? 'missing/wrong: ' + bad.join(' ') : Object.keys(names).length + ' names' });
  } catch (error) { out.push({ pkg: spec, check: 'require() named exports', ok: false, detail: error.message }); }
}
let server;
try {
  server = require('@iproto/server/testing');
  out.push({ pkg: '@iproto/server', check: 'CJS ./testing loads', ok: true, detail: '' });
} catch (error) {
  out.push({ pkg: '@iproto/server', check: 'CJS ./testing loads', ok: false, detail: error.message });
  console.log(JSON.stringify(out));
  process.exit(0);
}
const { IProtoServer } = require('@iproto/server');
server.startTestServer().then(async (server) => {
  out.push({ pkg: '@iproto/server/testing', check: 'TestServer instanceof IProtoServer (CJS, shared chunk)', ok: server instanceof IProtoServer, detail: '' });
  await server.close();
  console.log(JSON.stringify(out));
});
`;

// An app that depends on @iproto/client alone, laid out as pnpm does (its dependencies visible to it,
// not to the app): everything the docs import comes from '@iproto/client', from ESM and CJS, and
// talks to a plain node:net server that answers each frame with its own bytes.
const CLIENT_ONLY_PROBE = `
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const out = [];
const note = (check, ok, detail = '') => out.push({ pkg: '@iproto/client', check, ok: Boolean(ok), detail: String(detail) });
let hidden = false;
try { await import('@iproto/pack'); } catch { hidden = true; }
note('client-only app: @iproto/pack itself not importable (pnpm layout)', hidden);
const esm = await import('@iproto/client');
const cjs = require('@iproto/client');
const server = createServer((socket) => socket.on('data', (chunk) => socket.write(chunk)));
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const address = '127.0.0.1:' + server.address().port;
for (const [kind, m] of [['ESM', esm], ['CJS', cjs]]) {
  try {
    const { IProto, pack, unpack, PackError, isIProtoError, Cluster, HASH } = m;
    let packError;
    try { unpack('w', Buffer.from([0x80])); } catch (error) { packError = error; }
    const cluster = new Cluster({ servers: address, balance: HASH });
    const client = new IProto({ cluster });
    const [n] = await client.send({ msg: 7, key: 1, payload: pack('N', 42), unpack: 'N' });
    const controller = new AbortController();
    const pending = client.send({ msg: 7, key: 1, data: [1], unpack: 'L' }, { signal: controller.signal });
    controller.abort();
    const aborted = await pending.catch((error) => error);
    await client.close();
    await cluster.close();
    note('client-only app (' + kind + '): pack, unpack, PackError, Cluster, HASH, IProto from @iproto/client',
      n === 42 && packError instanceof PackError && isIProtoError(packError) && aborted === controller.signal.reason,
      'reply ' + n + ', ' + (packError && packError.code));
  } catch (error) {
    note('client-only app (' + kind + '): pack, unpack, PackError, Cluster, HASH, IProto from @iproto/client', false, error.stack);
  }
}
server.close();
console.log(JSON.stringify(out));
`;

// Type-level use of every entry: wrong or missing \`types\` for a condition fails here.
const TYPES_PROBE = `
import { pack, unpack, compile, PackError } from '@iproto/pack';
import { HEADER_SIZE, encodeHeader, decodeHeader, encodeFrame, FrameDecoder, dumpPacket, type Frame } from '@iproto/framing';
import { IProtoServer } from '@iproto/server';
import { startTestServer, type TestServer } from '@iproto/server/testing';
import { Connection, IProtoError, isIProtoError } from '@iproto/connection';
import { Cluster, crc32, RR, HASH, KETAMA } from '@iproto/cluster';
import { IProto, pack as clientPack, unpack as clientUnpack, PackError as ClientPackError, Cluster as ClientCluster, HASH as ClientHash, AbortError, type ClusterOptions } from '@iproto/client';
import { main } from '@iproto/cli';
import { Box, BoxError } from '@iproto/box';

const bytes: Buffer = pack('N', 1);
const values: unknown[] = unpack('N', bytes);
const header: Buffer = encodeHeader(1, 0, HEADER_SIZE);
const decoded: { msg: number; len: number; sync: number } = decodeHeader(header);
const frames: Frame[] = new FrameDecoder().push(encodeFrame(1, 2));
const dump: string = dumpPacket(bytes);
const sum: number = crc32('key');
const balances: string[] = [RR, HASH, KETAMA];
const error: unknown = new IProtoError('ETIMEDOUT', 'x');
const branded: boolean = isIProtoError(error) && error.code === 'ETIMEDOUT';
const isPackError: boolean = error instanceof PackError;
async function use(): Promise<void> {
  await using scoped = await startTestServer();
  await using scopedConnection = new Connection({ host: scoped.host, port: scoped.port });
  void scopedConnection;
  const server: TestServer = await startTestServer();
  const plain: IProtoServer = server;
  const connection = new Connection({ host: server.host, port: server.port });
  const reply: Frame = await connection.send(1, bytes);
  await connection.close();
  await plain.close();
  void reply;
}
const box = new Box({
  servers: '127.0.0.1:1',
  spaces: [{ space: 0, name: 'users', format: 'L$L', fields: ['id', 'name', 'age'], indexes: [{ name: 'primary', keys: ['id'] }] }],
});
async function useBox(): Promise<void> {
  await using scopedBox = new Box({ servers: '127.0.0.1:1', spaces: [] });
  await using scopedClient = new IProto({ servers: '127.0.0.1:1' });
  void scopedBox;
  void scopedClient;
  const rows: { id: number; name: string; age: number }[] = await box.select('users', [1, 2]);
  const failed: boolean = new BoxError('ERR_BOX_REPLY', 'x') instanceof Error;
  void rows;
  void failed;
  await box.close();
}
const clientOptions: ClusterOptions = { servers: '127.0.0.1:1', balance: ClientHash };
const clientOnly: unknown[] = clientUnpack('N', clientPack('N', 1));
const clientPackError: boolean = new Error('x') instanceof ClientPackError || new Error('y') instanceof AbortError;
export const clientReExports = [new ClientCluster(clientOptions), clientOnly, clientPackError];
export const probe = [compile, Cluster, IProto, main, values, decoded, frames, dump, sum, balances, branded, isPackError, use, useBox];
`;

/**
 * Moves every package but @iproto/client under node_modules/@iproto/client/node_modules, so the app
 * sees only what it depends on (as pnpm lays it out), then runs CLIENT_ONLY_PROBE there.
 */
async function checkClientOnly(project) {
  const scope = join(project, 'node_modules', '@iproto');
  const nested = join(scope, 'client', 'node_modules', '@iproto');
  await mkdir(nested, { recursive: true });
  for (const dir of await readdir(scope)) {
    if (dir !== 'client') await rename(join(scope, dir), join(nested, dir));
  }
  await writeFile(join(project, 'client-only.mjs'), CLIENT_ONLY_PROBE);
  const result = await sh(process.execPath, ['client-only.mjs'], { cwd: project, timeout: 30_000 });
  const last = result.stdout.trim().split('\n').at(-1) ?? '';
  if (result.code === 0 && last.startsWith('[')) {
    for (const r of JSON.parse(last)) record(r.pkg, r.check, r.ok, r.detail);
  } else record('@iproto/client', 'client-only app', false, `${result.stderr.trim()} ${last}`.slice(0, 500));
}

async function main() {
  const started = Date.now();
  const work = await mkdtemp(join(tmpdir(), 'iproto-packages-'));
  const tarballs = join(work, 'tarballs');
  const project = join(work, 'consumer');
  await mkdir(tarballs);
  await mkdir(project);
  npmCache = join(work, 'cache');
  try {
    const dirs = (await readdir(join(root, 'packages'))).sort();
    const sources = [];
    for (const dir of dirs) {
      const file = join(root, 'packages', dir, 'package.json');
      if (!existsSync(file)) continue;
      const json = JSON.parse(await readFile(file, 'utf8'));
      if (json.private) continue;
      if (!existsSync(join(root, 'packages', dir, 'dist'))) {
        record(
          json.name,
          'built (dist/ exists)',
          false,
          `run pnpm build first: packages/${dir}/dist is missing`,
        );
        continue;
      }
      sources.push({ dir, name: json.name, version: json.version });
    }
    const versions = Object.fromEntries(sources.map(({ name, version }) => [name, version]));

    // 1. pnpm pack each package (replaces workspace:* by the sibling's version).
    const packed = [];
    for (const source of sources) {
      const cwd = join(root, 'packages', source.dir);
      const before = new Set(await readdir(tarballs));
      const result = await sh('pnpm', ['pack', '--pack-destination', tarballs], { cwd });
      const made = (await readdir(tarballs)).filter((file) => !before.has(file) && file.endsWith('.tgz'));
      record(
        source.name,
        'pnpm pack',
        result.code === 0 && made.length === 1,
        made[0] ?? `${result.stdout}${result.stderr}`.trim().slice(0, 300),
      );
      if (made.length !== 1) continue;
      const tarball = join(tarballs, made[0]);
      packed.push(await inspectTarball(source.dir, tarball, { ...source, versions }));
      const lint = await publintTarball(tarball);
      record(source.name, 'publint: no error, warning or suggestion', lint.length === 0, lint.join(' | '));
      const attw = await attwTarball(tarball);
      record(source.name, 'Are The Types Wrong: no problem', attw.length === 0, attw.join(' | '));
    }

    // 2. Install all tarballs together; an unreachable registry and an empty cache prove no network is used.
    await writeFile(
      join(project, 'package.json'),
      `${JSON.stringify({ name: 'iproto-consumer', version: '1.0.0', private: true }, null, 2)}\n`,
    );
    const install = await npmInstall(
      project,
      packed.map((p) => p.tarball),
    );
    record(
      'all',
      'npm install of all tarballs, registry unreachable',
      install.code === 0,
      install.code === 0
        ? `${packed.length} tarballs`
        : install.stderr.trim().split('\n').slice(-3).join(' | '),
    );
    if (install.code === 0) {
      // 3. Load every entry from ESM and CJS.
      const expected = JSON.stringify(EXPECTED);
      await writeFile(join(project, 'probe.mjs'), ESM_PROBE);
      await writeFile(join(project, 'probe.cjs'), CJS_PROBE);
      for (const probe of ['probe.mjs', 'probe.cjs']) {
        const result = await sh(process.execPath, [probe, expected], { cwd: project, timeout: 30_000 });
        const last = result.stdout.trim().split('\n').at(-1) ?? '';
        if (result.code === 0 && last.startsWith('[')) {
          for (const r of JSON.parse(last)) record(r.pkg, r.check, r.ok, r.detail);
        } else record('all', `node ${probe}`, false, `${result.stderr.trim()} ${last}`.slice(0, 500));
      }

      // 4. The bin, as `npx iproto --help` finds it in the consumer project.
      // `--no` forbids a registry fetch: the bin must come from the installed tarball.
      const help = await sh('npx', ['--no', '--', 'iproto', '--help'], {
        cwd: project,
        env: npmEnv(),
        timeout: 30_000,
      });
      record(
        '@iproto/cli',
        'npx iproto --help exits 0',
        help.code === 0 && /^Usage: iproto /.test(help.stdout),
        help.code === 0 ? help.stdout.trim().split('\n')[0] : help.stderr.trim().slice(0, 300),
      );
      // A real command through the bin: decode one frame (msg 0xff00, sync 7, body L 42) offline.
      const frame = Buffer.alloc(16);
      frame.writeUInt32LE(0xff00, 0);
      frame.writeUInt32LE(4, 4);
      frame.writeUInt32LE(7, 8);
      frame.writeUInt32LE(42, 12);
      await writeFile(join(project, 'frame.bin'), frame);
      const decode = await sh(
        'npx',
        ['--no', '--', 'iproto', 'decode', 'frame.bin', '--json', '--unpack', 'L'],
        {
          cwd: project,
          env: npmEnv(),
          timeout: 30_000,
        },
      );
      let decoded;
      try {
        decoded = JSON.parse(decode.stdout).frames?.[0];
      } catch {}
      record(
        '@iproto/cli',
        'npx iproto decode frame.bin --json',
        decode.code === 0 && decoded?.msg === 0xff00 && decoded?.sync === 7 && decoded?.values?.[0] === 42,
        decode.code === 0 ? decode.stdout.trim().slice(0, 80) : decode.stderr.trim().slice(0, 300),
      );

      // 5. Types under node16 resolution, from an ESM (.mts) and a CJS (.cts) consumer.
      await writeFile(join(project, 'consumer.mts'), TYPES_PROBE);
      await writeFile(join(project, 'consumer.cts'), TYPES_PROBE);
      const tsconfig = {
        compilerOptions: {
          module: 'node16',
          moduleResolution: 'node16',
          target: 'es2022',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          typeRoots: [join(root, 'node_modules', '@types')],
          types: ['node'],
        },
        files: ['consumer.mts', 'consumer.cts'],
      };
      await writeFile(join(project, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
      const tsc = await sh(join(root, 'node_modules', '.bin', 'tsc'), ['-p', '.', '--listFiles'], {
        cwd: project,
        timeout: 60_000,
      });
      const listed = tsc.stdout.split('\n');
      const errors = listed.filter((line) => /error TS/.test(line));
      record(
        'all',
        'tsc node16: consumer.mts + consumer.cts',
        tsc.code === 0,
        errors.slice(0, 4).join(' | ') || 'no errors',
      );
      for (const { packed: json } of packed) {
        for (const [key, entry] of Object.entries(json.exports ?? {})) {
          if (key === './package.json') continue;
          const spec = `${json.name}${key.slice(1)}`;
          const seen = (target) =>
            listed.some((line) =>
              line.endsWith(`/node_modules/${json.name}/${String(target).replace(/^\.\//, '')}`),
            );
          const esmTypes = entry.import?.types;
          const cjsTypes = entry.require?.types;
          record(spec, `types: .mts reads ${esmTypes}`, seen(esmTypes));
          record(spec, `types: .cts reads ${cjsTypes}`, seen(cjsTypes));
        }
      }
    }

    // 6. Each package alone: a fresh project with only it and its own dependencies' tarballs.
    const byName = new Map(packed.map((p) => [p.packed.name, p]));
    for (const p of packed) {
      const name = p.packed.name;
      const installed = join(project, 'node_modules', name);
      if (existsSync(installed)) await checkImports(installed, p.packed);
      const alone = join(work, `alone-${p.dir}`);
      await mkdir(alone);
      const members = [...closure(name, byName)];
      const result = await npmInstall(
        alone,
        members.map((member) => byName.get(member).tarball),
      );
      const specs = Object.keys(p.packed.exports ?? {})
        .filter((key) => key !== './package.json')
        .map((key) => `${name}${key.slice(1)}`);
      const wanted = JSON.stringify(Object.fromEntries(specs.map((spec) => [spec, EXPECTED[spec] ?? {}])));
      const script = `const want = ${wanted};
        const { createRequire } = await import('node:module');
        const require = createRequire(process.cwd() + '/');
        for (const [spec, names] of Object.entries(want)) {
          for (const mod of [await import(spec), require(spec)]) {
            for (const [n, t] of Object.entries(names)) if (typeof mod[n] !== t) throw new Error(spec + ': ' + n);
          }
        }`;
      const load =
        result.code === 0
          ? await sh(process.execPath, ['--input-type=module', '-e', script], { cwd: alone, timeout: 30_000 })
          : result;
      record(
        name,
        'alone: install with only its deps, import() + require()',
        load.code === 0,
        load.code === 0 ? members.map((m) => m.slice(8)).join('+') : firstError(load.stderr),
      );
      if (name === '@iproto/client' && load.code === 0) await checkClientOnly(alone);
    }
  } finally {
    if (keep) console.error(`kept ${work}`);
    else await rm(work, { recursive: true, force: true });
  }

  const width = (key) => Math.max(key.length, ...results.map((r) => String(r[key]).length));
  const pkgWidth = width('pkg');
  const checkWidth = Math.min(width('check'), 70);
  console.log(`${'package'.padEnd(pkgWidth)}  ${'check'.padEnd(checkWidth)}  result  detail`);
  console.log(`${'-'.repeat(pkgWidth)}  ${'-'.repeat(checkWidth)}  ------  ------`);
  for (const r of results) {
    console.log(
      `${r.pkg.padEnd(pkgWidth)}  ${r.check.padEnd(checkWidth)}  ${(r.ok ? 'ok' : 'FAIL').padEnd(6)}  ${r.detail}`,
    );
  }
  const failed = results.filter((r) => !r.ok);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`\n${results.length - failed.length}/${results.length} checks passed in ${seconds} s`);
  if (failed.length > 0) process.exitCode = 1;
}

await main();
