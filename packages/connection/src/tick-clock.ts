let now = 0;
let fresh = false;

function expire(): void {
  fresh = false;
}

/**
 * `performance.now()`, read once per tick for the whole process: the requests of one tick share a
 * deadline bucket (deadlines.ts) and reading the clock per request would cost more than the rest
 * of tracking. Per tick, not per turn of the event loop: a turn can run long callbacks between its
 * ticks, and a clock that old would fail requests before their deadlines.
 * @internal
 */
export function tickNow(): number {
  if (fresh) return now;
  fresh = true;
  process.nextTick(expire);
  now = performance.now();
  return now;
}
