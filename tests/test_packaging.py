"""The built wheel: an installed app has every module, its migrations and its icons."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("*.whl")
    return built


def test_the_wheel_holds_every_module_migration_and_resource(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "tracker").rglob("*.py")}
    bench = {m for m in modules if m.startswith("tracker/bench/")}
    assert bench and not bench & names, "the benchmark harness is not for users"
    assert modules - bench - names == set(), "modules left out of the wheel (add their package)"
    migrations = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "tracker/core/db/migrations").rglob("*.mako")
    }
    assert migrations and migrations <= names
    topics = {p.relative_to(ROOT).as_posix() for p in (ROOT / "tracker/ui/help").glob("*.md")}
    assert topics and topics <= names, "the help's topics are left out of the wheel"
    resources = {
        "tracker/" + p.relative_to(ROOT).as_posix()
        for p in (ROOT / "resources").rglob("*")
        if p.is_file()
    }
    assert "tracker/resources/icons/app.svg" in resources
    assert resources - names == set()


def test_an_installed_app_finds_its_icons(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    probe = (
        "import tracker, tracker.ui.icons as i;"
        "print(tracker.__file__); print(i.resources()); print(i.icon('import').isNull())"
    )
    env = {**os.environ, "PYTHONPATH": str(site), "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from PySide6.QtGui import QGuiApplication as A; a = A([]);" + probe,
        ],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert out[0].startswith(str(site)), "the checkout was imported, not the installed copy"
    assert out[1] == str(site / "tracker" / "resources")
    assert out[2] == "False"
