"""Typing for users: after the README's editable install, mypy --strict sees the package's
types (py.typed), passes on a file using every public entry point, and catches a typo."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent / "typing"


@pytest.mark.slow
def test_mypy_strict_passes_on_every_entry_point_and_catches_a_misspelled_option(tmp_path: Path) -> None:
    pytest.importorskip("mypy")
    for name in ("uses_everything.py", "misspelled.py"):
        shutil.copy(HERE / name, tmp_path / name)
    # run where a user's project would be: outside this repository, the package from site-packages
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / ".cache"),
         "uses_everything.py", "misspelled.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    lines = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert "Cannot find implementation" not in result.stdout, result.stdout
    assert not [line for line in lines if line.startswith("uses_everything.py")], result.stdout
    assert len(lines) == 2, result.stdout
    assert 'Unexpected keyword argument "login_ulr"' in lines[0] and 'did you mean "login_url"' in lines[0]
    assert 'Unexpected keyword argument "cookie_nmae"' in lines[1]
