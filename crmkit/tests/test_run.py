"""crmkit.run: a service process puts its start-up heap out of the garbage collector's reach
(P1: full collections walking some 100,000 start-up objects again and again cost a fifth of the
assignment service's CPU in a 100,000-row import)."""
import subprocess
import sys

PROBE = """
import gc
from crmkit import run
from lead import service  # a whole service's modules and tables, as run.main has them
before = gc.get_freeze_count()
run.freeze_startup_heap()
print(before, gc.get_freeze_count())
"""


def test_the_start_up_heap_is_frozen():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True)
    before, after = map(int, out.stdout.split())
    assert before == 0 and after > 50_000
