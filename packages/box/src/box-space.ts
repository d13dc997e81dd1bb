import type { Box } from './box.js';
import type { InsertOptions, SelectOptions, WriteOptions } from './box-options.js';
import type {
  IndexRef,
  KeyOf,
  PrimaryKeyOf,
  SpaceOf,
  SpaceRef,
  SpaceSpec,
  TupleInput,
  UpdateOp,
} from './types.js';

/**
 * A space of a Box with its calls bound: `box.space('users').select(1)`. `box.space()` is the
 * default space, as MR::Tarantool::Box's calls without a `space` option.
 */
export class BoxSpace<
  Spaces extends readonly SpaceSpec[],
  Raise extends boolean,
  R extends SpaceRef<Spaces>,
> {
  constructor(
    readonly box: Box<Spaces, Raise>,
    readonly ref: R,
  ) {}

  insert<const O extends InsertOptions = {}>(tuple: TupleInput<SpaceOf<Spaces, R>>, options?: O) {
    return this.box.insert(this.ref, tuple, options);
  }

  add<const O extends Omit<InsertOptions, 'action'> = {}>(
    tuple: TupleInput<SpaceOf<Spaces, R>>,
    options?: O,
  ) {
    return this.box.add(this.ref, tuple, options);
  }

  replace<const O extends Omit<InsertOptions, 'action'> = {}>(
    tuple: TupleInput<SpaceOf<Spaces, R>>,
    options?: O,
  ) {
    return this.box.replace(this.ref, tuple, options);
  }

  select<
    I extends IndexRef<SpaceOf<Spaces, R>> | undefined = undefined,
    const O extends SelectOptions<I> = {},
  >(
    keys: KeyOf<SpaceOf<Spaces, R>, I> | readonly KeyOf<SpaceOf<Spaces, R>, I>[],
    options?: O & SelectOptions<I>,
  ) {
    return this.box.select<R, I, O>(this.ref, keys, options);
  }

  update<const O extends WriteOptions = {}>(
    key: PrimaryKeyOf<SpaceOf<Spaces, R>>,
    ops: readonly UpdateOp<SpaceOf<Spaces, R>>[],
    options?: O,
  ) {
    return this.box.update(this.ref, key, ops, options);
  }

  delete<const O extends WriteOptions = {}>(key: PrimaryKeyOf<SpaceOf<Spaces, R>>, options?: O) {
    return this.box.delete(this.ref, key, options);
  }
}
