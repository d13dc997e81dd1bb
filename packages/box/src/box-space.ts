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

  /** Inserts or replaces `tuple` (`Box#insert` on this space). */
  insert<const O extends InsertOptions = {}>(tuple: TupleInput<SpaceOf<Spaces, R>>, options?: O) {
    return this.box.insert(this.ref, tuple, options);
  }

  /** Inserts `tuple`; fails if its primary key exists (`Box#add` on this space). */
  add<const O extends Omit<InsertOptions, 'action'> = {}>(
    tuple: TupleInput<SpaceOf<Spaces, R>>,
    options?: O,
  ) {
    return this.box.add(this.ref, tuple, options);
  }

  /** Replaces the tuple with `tuple`'s primary key; fails if there is none (`Box#replace` on this space). */
  replace<const O extends Omit<InsertOptions, 'action'> = {}>(
    tuple: TupleInput<SpaceOf<Spaces, R>>,
    options?: O,
  ) {
    return this.box.replace(this.ref, tuple, options);
  }

  /** Selects the tuples matching `keys` on the primary index or `options.index` (`Box#select` on this space). */
  select<
    I extends IndexRef<SpaceOf<Spaces, R>> | undefined = undefined,
    const O extends SelectOptions<I> = {},
  >(
    keys: KeyOf<SpaceOf<Spaces, R>, I> | readonly KeyOf<SpaceOf<Spaces, R>, I>[],
    options?: O & SelectOptions<I>,
  ) {
    return this.box.select<R, I, O>(this.ref, keys, options);
  }

  /** Applies `ops` to the tuple with primary key `key` (`Box#update` on this space). */
  update<const O extends WriteOptions = {}>(
    key: PrimaryKeyOf<SpaceOf<Spaces, R>>,
    ops: readonly UpdateOp<SpaceOf<Spaces, R>>[],
    options?: O,
  ) {
    return this.box.update(this.ref, key, ops, options);
  }

  /** Deletes the tuple with primary key `key` (`Box#delete` on this space). */
  delete<const O extends WriteOptions = {}>(key: PrimaryKeyOf<SpaceOf<Spaces, R>>, options?: O) {
    return this.box.delete(this.ref, key, options);
  }
}
