import { it } from 'vitest';
import { allDocModules, typeCheckDocs } from './doc-types.js';
it('x', () => {
const t = Date.now();
const mods = allDocModules();
const errs = typeCheckDocs(mods);
for (const e of errs) console.log(e.where, e.message.split('\n').slice(0,3).join(' | ').slice(0, 300));
console.log(mods.length, 'modules', errs.length, 'errors', Date.now() - t, 'ms');
}, 60000);
