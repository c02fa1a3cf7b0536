"""Refresh the output of every ``$ command`` example in README.md by running it.

    python tools/readme_examples.py          # rewrite README.md in place

Each command runs from the repository root as ``bash -c "COMMAND 2>&1"`` with NO_COLOR=1,
exactly as tests/test_readme.py runs it to check the README is still true.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONSOLE = re.compile(r"```console\n\$ (.+?)\n(.*?)```", re.S)


def run(command: str) -> str:
    env = dict(os.environ, NO_COLOR="1")
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.pop("COLUMNS", None)
    p = subprocess.run(
        ["bash", "-c", f"{{ {command}\n}} 2>&1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )
    return "\n".join(line.rstrip() for line in p.stdout.rstrip("\n").split("\n"))


def main() -> None:
    path = ROOT / "README.md"
    text = path.read_text(encoding="utf-8")
    new = CONSOLE.sub(lambda m: f"```console\n$ {m.group(1)}\n{run(m.group(1))}\n```", text)
    path.write_text(new, encoding="utf-8")
    print(f"{len(CONSOLE.findall(text))} examples refreshed")


if __name__ == "__main__":
    main()
