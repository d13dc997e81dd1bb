// A description of the machine a run happened on, for the report's header.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

function run(command, args) {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/** The CPU as /proc/cpuinfo tells it (family, model, clock, virtualised or not), else as os.cpus(). */
function cpuModel() {
  const fallback = os.cpus()[0]?.model?.trim() || 'unknown';
  let info;
  try {
    info = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return fallback;
  }
  const field = (name) => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(info)?.[1]?.trim();
  const model = field('model name') || fallback;
  const details = [];
  if (field('cpu family') && field('model'))
    details.push(`family ${field('cpu family')} model ${field('model')}`);
  if (field('cpu MHz')) details.push(`${Math.round(Number(field('cpu MHz')))} MHz`);
  if (/^flags\s*:.*\bhypervisor\b/m.test(info)) details.push('virtual machine');
  return details.length > 0 ? `${model} (${details.join(', ')})` : model;
}

/** The Perl side of the comparison: perl's version and MR::IProto's, or why it is missing. */
export function perlInfo() {
  const perl = run('perl', ['-e', 'printf "%vd", $^V']);
  if (!perl) return { perl: undefined, mrIProto: undefined, reason: 'perl is not installed' };
  const loads = run('perl', ['-MMR::IProto', '-MAnyEvent', '-e', 'print "ok"']) === 'ok';
  if (!loads) {
    return {
      perl,
      mrIProto: undefined,
      reason: 'MR::IProto is not installed (Debian package libmr-tarantool-perl)',
    };
  }
  // Prints "libmr-tarantool-perl<TAB>VERSION".
  const debian = run('dpkg-query', ['-W', 'libmr-tarantool-perl'])?.split('\t')[1];
  return { perl, mrIProto: debian ? `libmr-tarantool-perl ${debian}` : 'installed', reason: undefined };
}

export function loadAverage() {
  return os
    .loadavg()
    .map((n) => n.toFixed(2))
    .join(' ');
}

export function describeMachine() {
  const cpus = os.cpus();
  return {
    cpu: cpuModel(),
    cores: cpus.length,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    cc: run('cc', ['-dumpfullversion']) ?? run('cc', ['-dumpversion']),
    ...perlInfo(),
  };
}
