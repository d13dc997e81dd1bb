import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The package is the offline codec: no dependencies, no `net`. Only capture files touch `node:fs`.
describe('package imports', () => {
  it('uses nothing but relative modules and node:fs/promises', () => {
    const dir = new URL('../src/', import.meta.url);
    const sources = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    expect(sources).toContain('frame-decoder.ts');
    for (const file of sources) {
      const text = readFileSync(new URL(file, dir), 'utf8');
      for (const [, spec] of text.matchAll(/from '([^']+)'/g)) {
        expect(spec.startsWith('./') || spec === 'node:fs/promises', `${file} imports ${spec}`).toBe(true);
      }
    }
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(pkg.dependencies ?? {}).toEqual({});
  });
});
