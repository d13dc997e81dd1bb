// Runs one benchmark script in a child process and collects the JSON object its last stdout line
// carries (docs/architecture.md, "Benchmarks"). A benchmark that crashes, hangs or prints no JSON
// becomes a section that says so; the run goes on.
import { spawn } from 'node:child_process';

const TAIL_LINES = 12;

/**
 * @returns {Promise<{ status: 'ok' | 'failed' | 'timeout', seconds: number, json?: object, reason?: string }>}
 */
export function runChild(file, { args = [], cwd, timeoutMs, env = {} }) {
  const started = process.hrtime.bigint();
  const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', file, ...args], {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    const stderrTail = [];
    let timedOut = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      // The human tables go straight to our stderr, as the benchmark prints them.
      process.stderr.write(chunk);
      stderrTail.push(...chunk.split('\n').filter((l) => l.trim() !== ''));
      stderrTail.splice(0, Math.max(0, stderrTail.length - TAIL_LINES));
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ status: 'failed', seconds: seconds(), reason: `could not start node: ${error.message}` });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) {
        resolve({ status: 'timeout', seconds: seconds(), reason: `killed after ${timeoutMs / 1000} s` });
        return;
      }
      const last = stdout.trim().split('\n').at(-1) ?? '';
      let json;
      try {
        json = JSON.parse(last);
      } catch {
        json = undefined;
      }
      const lastError = stderrTail.at(-1);
      if (code !== 0) {
        const how = signal ? `signal ${signal}` : `exit code ${code}`;
        resolve({
          status: 'failed',
          seconds: seconds(),
          reason: `${how}${lastError ? ` (${lastError.trim().slice(0, 300)})` : ''}`,
        });
        return;
      }
      if (!json || !Array.isArray(json.results)) {
        resolve({
          status: 'failed',
          seconds: seconds(),
          reason: 'the last line of stdout is not the JSON results object',
        });
        return;
      }
      resolve({ status: 'ok', seconds: seconds(), json });
    });
  });
}
