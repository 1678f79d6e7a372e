// Preloaded (`node --import`) into a replica by test/cluster/replicas.ts: this process's wall
// clock runs FLOW_TEST_CLOCK_SKEW_MS off, as on a machine whose clock is badly set. Date.now(),
// `new Date()` and Date() all see the skewed time; monotonic clocks (performance.now, timers)
// are untouched, as they are on such a machine.
const skew = Number(process.env.FLOW_TEST_CLOCK_SKEW_MS ?? '0');
const RealDate = globalThis.Date;
class SkewedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(RealDate.now() + skew);
    else super(...args);
  }
  static now() {
    return RealDate.now() + skew;
  }
}
globalThis.Date = new Proxy(SkewedDate, {
  // Date() called without new returns a string.
  apply: () => new SkewedDate().toString(),
});
