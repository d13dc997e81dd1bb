// Where a contender's time goes: its `.cpuprofile` (node --cpu-prof) summed by self time into the
// parts of the path (socket writes, GC, each package, the harness, ...), for the report beside the
// figures. Issue 12: "the bench prints ... the profile that shows where the rest goes".
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Native functions that are the socket write (the syscall and the stream's handing over). */
const WRITES = new Set(['writeBuffer', 'writev', 'writeUtf8String', 'writeLatin1String', 'writeGeneric']);

/** The part of the path a profile node's self time belongs to. */
export function categorize(callFrame) {
  const name = callFrame.functionName;
  const url = callFrame.url;
  if (name === '(garbage collector)') return 'garbage collection';
  if (name === '(idle)') return 'idle (waiting for the server)';
  if (name === '(program)') return 'V8 and native, unattributed';
  if (WRITES.has(name)) return 'socket writes';
  // Pack templates compile to functions made by `new Function` (no url): pack / unpack one message.
  if (url === '' && /^(pack|unpack)/.test(name)) return 'packages/pack';
  if (name === 'runMicrotasks' || name === 'processTicksAndRejections') return 'promise jobs and ticks';
  const m = /packages\/([a-z-]+)\//.exec(url);
  if (m) return `packages/${m[1]}`;
  if (url.includes('/bench/lib/')) return 'the harness (the loops awaiting send)';
  if (url.startsWith('node:internal/streams') || url.includes('stream_base_commons') || url === 'node:net')
    return 'Node streams (reads)';
  if (url.startsWith('node:')) return 'other Node internals';
  if (url === '') return 'V8 and native, unattributed';
  return 'other';
}

/**
 * Sums the newest `.cpuprofile` in `dir` by part of the path; returns
 * { parts: [{ part, share }], top: [{ fn, share }] }, shares of the sampled time (0..1), largest first.
 */
export function summarizeProfile(dir, topCount = 8) {
  const file = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort()
    .at(-1);
  if (file === undefined) throw new Error(`no .cpuprofile in ${dir}`);
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const timeOf = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    timeOf.set(id, (timeOf.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const parts = new Map();
  const fns = new Map();
  let total = 0;
  for (const node of profile.nodes) {
    const t = timeOf.get(node.id) ?? 0;
    if (t === 0) continue;
    total += t;
    const part = categorize(node.callFrame);
    parts.set(part, (parts.get(part) ?? 0) + t);
    const where = node.callFrame.url.replace(/^.*\/(packages\/[a-z-]+|bench\/lib)\//, '$1/');
    const fn = `${node.callFrame.functionName || '(anonymous)'}${where ? ` (${where})` : ''}`;
    fns.set(fn, (fns.get(fn) ?? 0) + t);
  }
  const sorted = (map) => [...map].sort((a, b) => b[1] - a[1]);
  return {
    parts: sorted(parts).map(([part, t]) => ({ part, share: t / total })),
    top: sorted(fns)
      .slice(0, topCount)
      .map(([fn, t]) => ({ fn, share: t / total })),
  };
}

/** One line per part, e.g. "socket writes 21%, garbage collection 12%, ...". */
export function describeProfile(summary, minShare = 0.02) {
  const pct = (s) => `${(s * 100).toFixed(0)}%`;
  const parts = summary.parts.filter((p) => p.share >= minShare).map((p) => `${p.part} ${pct(p.share)}`);
  const top = summary.top.map((f) => `${f.fn} ${pct(f.share)}`);
  return { parts: parts.join(', '), top: top.join(', ') };
}
