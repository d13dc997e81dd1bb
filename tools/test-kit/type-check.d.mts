/** The type tests (`*.test-d.ts`) of `dir`, as absolute paths. */
export function typeTestFiles(dir: string): string[];
/** Every diagnostic of compiling `files` under `tsconfigPath`'s options, as `file:line:col: text`. */
export function typeErrors(files: readonly string[], tsconfigPath: string): string[];
/** The checker's text (`typeToString`) for the type of each named variable declared in `file`. */
export function declaredTypes(
  file: string,
  tsconfigPath: string,
  names: readonly string[],
): Record<string, string>;
/** A string literal passed first to one of the callees, and where. */
export interface FoundArgument {
  callee: string;
  code: string;
  where: string;
}
/** Every string literal passed first to a call (or `new`) of one of `callees` in the `.ts` files under `dir`. */
export function firstStringArguments(dir: string, callees: readonly string[]): FoundArgument[];
