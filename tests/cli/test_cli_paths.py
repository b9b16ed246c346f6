"""Issue 16: nothing the user names can make the app write into the library's folders, and
what the app writes is the owner's alone whatever the umask."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import REPO, run_cli


@pytest.fixture
def lib(tmp_path: Path) -> Path:
    root = tmp_path / "lib"
    for n, day in enumerate(("2025:01:06", "2025:02:03")):
        photo = tmp_path / f"p{n}.jpg"
        exif = Image.Exif()
        exif.get_ifd(0x8769)[0x9003] = f"{day} 10:00:00"
        Image.new("RGB", (64, 48), (200, 150 + n * 20, 140)).save(photo, exif=exif)
        assert (
            run_cli("--library", str(root), "import", str(photo), "--area", "Hips").returncode == 0
        )
    assert run_cli("--library", str(root), "consent", "add", "care").returncode == 0
    return root


def _original(root: Path) -> Path:
    return next((root / "originals").rglob("*.jpg"))


def test_an_export_is_never_written_inside_the_library(lib: Path, tmp_path: Path) -> None:
    original = _original(lib)
    before = original.read_bytes()
    L = ("--library", str(lib))
    # Over an original (the read-only bit does not stop its owner), by its path or a link.
    link = tmp_path / "innocent.jpg"
    link.symlink_to(original)
    for out in (original, link, lib / "cache" / "x.png"):
        result = run_cli(*L, "export", "compare", "1", "2", str(out))
        assert result.returncode == 2 and "inside the library folder" in result.stderr, out
    for args in (("export", "csv", str(lib / "r.csv")), ("export", "report", str(lib / "r.pdf"))):
        result = run_cli(*L, *args)
        assert result.returncode == 2 and "inside the library folder" in result.stderr
    assert original.read_bytes() == before
    assert not (lib / "r.csv").exists() and not (lib / "r.pdf").exists()
    assert run_cli(*L, "check").returncode == 0


def _as_desktop_user(*args: str) -> None:
    """``python -m tracker ARGS`` started with the usual desktop umask, 022."""
    result = subprocess.run(
        [sys.executable, "-m", "tracker", *args],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=lambda: os.umask(0o022),
    )
    assert result.returncode == 0, result.stderr


def test_what_the_app_writes_is_private_whatever_the_umask(lib: Path, tmp_path: Path) -> None:
    out = tmp_path / "exports"
    out.mkdir()
    _as_desktop_user("--library", str(lib), "export", "compare", "1", "2", str(out / "c.png"))
    _as_desktop_user("--library", str(lib), "export", "csv", str(out / "r.csv"))
    for made in (out / "c.png", out / "r.csv"):
        assert stat.S_IMODE(made.stat().st_mode) == 0o600, made
    fresh = tmp_path / "fresh"
    _as_desktop_user("--library", str(fresh), "import", str(tmp_path / "p0.jpg"), "--area", "Arm")
    _as_desktop_user("--library", str(fresh), "backup", str(out / "b.zip"))
    assert stat.S_IMODE((out / "b.zip").stat().st_mode) == 0o600
    for path in [fresh, *fresh.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        assert mode & 0o077 == 0, (path, oct(mode))  # nothing for the group or others
