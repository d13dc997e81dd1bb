// Types for codes.mjs, for the TypeScript tests that share it (packages/client/test/reliability).
/** The error codes a failed send may carry, as documented in docs/reliability.md. */
export const DOCUMENTED_CODES: Set<string>;
