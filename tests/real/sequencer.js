/** Runs the real suites in a fixed order: the scenarios of the issue first, then the crash and ten-models suites. */
const Sequencer = require("@jest/test-sequencer").default;

const ORDER = ["tests/real/platform.test.ts", "tests/real/crash.test.ts", "tests/real/ten-models.test.ts"];

class RealSequencer extends Sequencer {
  sort(tests) {
    const rank = (t) => {
      const i = ORDER.findIndex((p) => t.path.endsWith(p));
      return i < 0 ? ORDER.length : i;
    };
    return [...tests].sort((a, b) => rank(a) - rank(b) || a.path.localeCompare(b.path));
  }
}

module.exports = RealSequencer;
