"""What the property-based tests (test_fuzz_*.py) share: settings, a cut-up stream,
and strategies for bytes near valid ones. CPython only: hypothesis does not exist on
MicroPython, so upy_run.py skips the test_fuzz_ modules, the only ones importing this.

Settings. Every test names its own number of examples through `fuzz(n)`, chosen so
that all of them together take well under a minute; `deadline=None` because this VM
and CI runners are noisy, and a slow example is not a failure. Where they run:

- in CI (the CI variable is set), derandomized: the same examples on every run, so a
  pull request never fails on an example that an unrelated change happened to draw;
- on a developer's machine, random, with failures kept in .hypothesis/ and replayed
  first: every local run explores new inputs;
- FUZZ_SCALE=50 multiplies every test's examples, for a long search after a parser
  changes (random, as locally).
"""
import os

from hypothesis import settings
from hypothesis import strategies as st

settings.register_profile("ci", deadline=None, derandomize=True, database=None,
                          print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") and "FUZZ_SCALE" not in os.environ
                      else "dev")
_SCALE = int(os.environ.get("FUZZ_SCALE", "1"))


def fuzz(examples):
    """The settings of one property: `examples` inputs (times FUZZ_SCALE)."""
    return settings(max_examples=examples * _SCALE)


class Stream:
    """A connection's bytes: readinto() returns short at the cut points, as a socket
    does; readline(limit) returns whole lines, as a buffered rfile does; then EOF.

    It counts what the parser asked of it, so tests can bound the calls (no hang) and
    the sizes asked for (no unbounded buffers).
    """

    def __init__(self, data, cuts=()):
        self.data = bytes(data)
        self.pos = 0
        self._ends = sorted(set(c for c in cuts if 0 < c < len(data))) + [len(data)]
        self.calls = 0
        self.calls_at_eof = 0
        self.largest_ask = 0

    def readinto(self, buffer):
        self._count(len(buffer))
        piece_end = next((e for e in self._ends if e > self.pos), self.pos)
        end = min(piece_end, self.pos + len(buffer))
        count = end - self.pos
        buffer[:count] = self.data[self.pos:end]
        self.pos = end
        return count

    def readline(self, limit):
        self._count(limit)
        newline = self.data.find(b"\n", self.pos, self.pos + limit)
        end = newline + 1 if newline >= 0 else min(len(self.data), self.pos + limit)
        line = self.data[self.pos:end]
        self.pos = end
        return line

    def rest(self):
        return self.data[self.pos:]

    def _count(self, size):
        self.calls += 1
        self.largest_ask = max(self.largest_ask, size)
        if self.pos == len(self.data):
            self.calls_at_eof += 1


def cut_points(data_size, most=8):
    """Where to cut an input of data_size bytes into the pieces a parser is fed."""
    return st.lists(st.integers(0, data_size), max_size=most)


def pieces(data, cuts):
    """data cut at the given points (in any order, repeats allowed) into memoryviews."""
    view = memoryview(data)
    ends = sorted(set(cuts)) + [len(data)]
    start = 0
    for end in ends:
        yield view[start:end]
        start = end


@st.composite
def mutated(draw, valid, junk=st.binary(min_size=1, max_size=8)):
    """A valid input (drawn from `valid`) with a few edits: bytes changed, inserted,
    deleted or repeated, or the end cut off. Near-valid inputs reach the parser's
    later states, which random bytes rarely do."""
    data = bytearray(draw(valid))
    for _ in range(draw(st.integers(0, 3))):
        edit = draw(st.sampled_from(("change", "insert", "delete", "repeat", "truncate")))
        at = draw(st.integers(0, len(data)))
        end = draw(st.integers(at, min(len(data), at + 16)))
        if edit == "change" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif edit == "insert":
            data[at:at] = draw(junk)
        elif edit == "delete":
            del data[at:end]
        elif edit == "repeat":
            data[at:at] = data[at:end] * draw(st.integers(1, 50))
        elif edit == "truncate":
            del data[at:]
    return bytes(data)
