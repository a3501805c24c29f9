"""One command for the matcher's figures: routing (bench/route.py) then assignment (bench/assign.py).

Run from the repository root: python bench/matching.py
"""

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run(script: str) -> None:
    spec = importlib.util.spec_from_file_location(script, HERE / f"{script}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[script] = module
    spec.loader.exec_module(module)
    module.main()


if __name__ == "__main__":
    print("== Routing\n")
    run("route")
    print("\n== Global assignment\n")
    run("assign")
