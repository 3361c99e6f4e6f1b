"""The CLI starts without the libraries only some commands need.

Every `memberlens` command (and every test that runs one as a process) paid 3.7 s to
print `--help`: importing the CLI imported scikit-learn (for the content
recommender's TF-IDF), pandas, SciPy's optimisers and alembic. They are now imported
where they are used; this holds the CLI to it (bench/cli_startup.py times it).
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("sklearn", "pandas", "alembic", "scipy.optimize", "lightgbm", "jieba")


def test_importing_the_cli_loads_none_of_the_heavy_libraries() -> None:
    probe = (
        "import json, sys, memberlens.cli; "
        f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert json.loads(done.stdout) == []
