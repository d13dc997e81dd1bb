'use strict';
// CHANGELOG lines for the iproto packages: each changeset's summary as its author wrote it, with no
// commit hashes, and the internal packages a release moves to in one line instead of a list of hashes.

/** @type {import('@changesets/types').ChangelogFunctions['getReleaseLine']} */
async function getReleaseLine(changeset) {
  const [first, ...rest] = changeset.summary.trim().split('\n');
  const more = rest.map((line) => (line.trim() === '' ? '' : `  ${line}`)).join('\n');
  return `\n- ${first}${more ? `\n${more}` : ''}`;
}

/** @type {import('@changesets/types').ChangelogFunctions['getDependencyReleaseLine']} */
async function getDependencyReleaseLine(_changesets, dependencies) {
  if (dependencies.length === 0) return '';
  const names = dependencies.map((dep) => `\`${dep.name}@${dep.newVersion}\``).join(', ');
  return `\n- Uses ${names}.`;
}

module.exports = { getReleaseLine, getDependencyReleaseLine };
