// Test-only preload for the server process (tests/hardening/fuzz.test.ts):
// SIGUSR2 runs a full garbage collection and says so on stderr. V8 does not
// collect an idle process's heap, so without this a memory check would
// measure garbage, not what the server still holds. Needs --expose-gc.
'use strict';
process.on('SIGUSR2', () => {
  // Twice: the second collection finds the heap mostly empty and shrinks it,
  // handing pages back to the OS (the options form, gc({ flavor }), collected
  // nothing on Node 20).
  globalThis.gc?.();
  globalThis.gc?.();
  process.stderr.write('[test-gc] done\n');
});
