// Read at build time: the bundler inlines the package's version, so the built command needs no
// package.json beside it at run time.
import packageJson from '../package.json' with { type: 'json' };

/** This package's version, as `iproto --version` prints it. */
export const VERSION: string = packageJson.version;
