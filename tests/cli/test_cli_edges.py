"""The command line at its edges (docs/CLI.md): its help, a reader that stops early, an
unexpected error and where its details go, and what a command loads to start."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import REPO, run_cli
from tracker.cli import LOG_FILE, main
from tracker.cli.parser import COMPARE_MODES, build_parser
from tracker.core.compare.render import MODES
from tracker.core.paths import log_dir
from tracker.core.services.clients import create_client
from tracker.core.store.library import Library


def _parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _parsers(sub)


def test_every_command_option_and_argument_has_help() -> None:
    missing = []
    parsers = list(_parsers(build_parser()))
    for parser in parsers:
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            name = "/".join(action.option_strings) or str(action.metavar or action.dest)
            if not action.help or action.help == argparse.SUPPRESS:
                missing.append(f"{parser.prog}: {name}")
            if isinstance(action, argparse._SubParsersAction):
                missing += [
                    f"{parser.prog} {choice.dest}"
                    for choice in action._choices_actions
                    if not choice.help
                ]
                missing += [
                    f"{sub.prog}: no description"
                    for sub in action.choices.values()
                    if not sub.description
                ]
    assert len(parsers) >= 18  # every command and subcommand was walked
    assert missing == []


def test_the_help_describes_what_export_writes() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    lines = result.stdout.split("\n    ")
    export = next(line for line in lines if line.startswith("export "))
    assert "comparison image" in export and "CSV" in export and "PDF" in export


def test_the_parser_offers_the_renderers_comparison_modes() -> None:
    assert COMPARE_MODES == MODES


@pytest.fixture(scope="module")
def many_clients(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A library whose client list (~180 kB) is far larger than a pipe holds (64 kB)."""
    root = tmp_path_factory.mktemp("many") / "lib"
    with Library.open(root, create=True) as lib, lib.session() as s:
        for i in range(1000):
            create_client(s, f"Client {i:04} " + "x" * 160)
    return root


@pytest.mark.parametrize("as_json", [False, True])
def test_a_reader_that_stops_early_ends_the_command_quietly(
    many_clients: Path, as_json: bool
) -> None:
    """``tracker list clients | head -1``: no message, and the command's own exit status."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    args = ["--library", str(many_clients), "list", "clients", *(["--json"] if as_json else [])]
    with subprocess.Popen(
        [sys.executable, "-m", "tracker", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        first = proc.stdout.read(1) if as_json else proc.stdout.readline()
        proc.stdout.close()  # the reader goes away with most of the output unread
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=60) == 0, err
    assert first.startswith(b"[" if as_json else b"id")
    assert err == ""


def _boom(_args: argparse.Namespace, _root: Path) -> int:
    raise RuntimeError("something broke in a test")


@pytest.fixture
def logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user's log folder, moved into the test's folder (platformdirs follows
    XDG_STATE_HOME on Linux; elsewhere the CLI's reference to it is replaced)."""
    if sys.platform.startswith("linux"):
        monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
        assert log_dir().is_relative_to(tmp_path)
        return log_dir()
    monkeypatch.setattr("tracker.cli.log_dir", lambda: tmp_path / "logs")
    return tmp_path / "logs"


def test_an_unexpected_error_is_logged_with_its_traceback(
    tmp_path: Path,
    logs: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tracker.cli import commands

    monkeypatch.setattr(commands, "cmd_list", _boom)
    assert main(["--library", str(tmp_path / "lib"), "list", "clients"]) == 1
    out, err = capsys.readouterr()
    log_file = logs / LOG_FILE
    assert out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "RuntimeError: something broke in a test" in err
    assert err.rstrip().endswith(f"Please report it; the details are in {log_file}.")
    logged = log_file.read_text(encoding="utf-8")
    assert "Unexpected error in 'tracker list'" in logged
    assert "Traceback (most recent call last)" in logged
    assert "in _boom" in logged and "RuntimeError: something broke in a test" in logged
    # The next one is added to the same file.
    assert main(["--library", str(tmp_path / "lib"), "list", "clients"]) == 1
    assert log_file.read_text(encoding="utf-8").count("Traceback") == 2


def test_an_unexpected_error_without_a_writable_log_still_says_what_happened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tracker.cli import commands

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setattr("tracker.cli.log_dir", lambda: blocker / "logs")
    monkeypatch.setattr(commands, "cmd_list", _boom)
    assert main(["--library", str(tmp_path / "lib"), "list", "clients"]) == 1
    err = capsys.readouterr().err
    assert "RuntimeError: something broke in a test" in err
    assert err.rstrip().endswith("Please report it.") and "details" not in err


def test_a_command_loads_neither_the_other_commands_nor_qt(tmp_path: Path) -> None:
    """Start-up time: ``list`` does not load the care, comparison or export modules, nor
    Pillow, the decoders, the import or the sample maker; parsing loads no image renderer."""
    code = (
        "import sys\n"
        "from tracker.cli import main\n"
        "from tracker.cli.parser import parse\n"
        "parse(['export', 'compare', '1', '2', 'out.png'])\n"
        "assert 'tracker.core.compare.render' not in sys.modules\n"
        f"assert main(['--library', {str(tmp_path / 'lib')!r}, 'init']) == 0\n"
        f"assert main(['--library', {str(tmp_path / 'lib')!r}, 'list', 'clients']) == 0\n"
        "prefixes = ('tracker.cli.care', 'tracker.core.care', 'tracker.core.compare', "
        "'tracker.core.exports', 'tracker.ui', 'PySide6', 'logging.handlers', 'PIL', "
        "'tracker.core.imaging.decode', 'tracker.core.services.imports', 'tracker.core.demo')\n"
        "print(sorted(m for m in sys.modules if m.startswith(prefixes)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_text_output_cannot_run_terminal_escapes_and_json_stays_exact(tmp_path: Path) -> None:
    photo = tmp_path / "scan\x1b]0;owned\x07\x1b[2J.jpg"
    Image.new("RGB", (32, 24), (200, 150, 140)).save(photo, format="JPEG")
    lib = ("--library", str(tmp_path / "lib"))
    assert run_cli(*lib, "import", str(photo), "--area", "Hips").returncode == 0
    text = run_cli(*lib, "list", "photos")
    assert text.returncode == 0
    assert "\x1b" not in text.stdout and "\x07" not in text.stdout
    assert "scan\\x1b]0;owned\\x07\\x1b[2J.jpg" in text.stdout
    as_json = run_cli(*lib, "list", "photos", "--json")
    assert json.loads(as_json.stdout)[0]["original_name"] == photo.name
    # A newline in a file name cannot forge a row of the table (found in review).
    forged = tmp_path / "x\n99  Ana  A  2025-01-01  front  FAKE ROW.jpg"
    Image.new("RGB", (32, 24), (20, 150, 140)).save(forged, format="JPEG")
    assert run_cli(*lib, "import", str(forged), "--area", "Hips").returncode == 0
    lines = run_cli(*lib, "list", "photos").stdout.splitlines()
    assert len(lines) == 3 and not any(line.startswith("99") for line in lines)


def test_a_database_error_logs_no_values_bound_to_the_statement(tmp_path: Path) -> None:
    """Issue 16: a traceback in the log held a visit's notes through the statement's bound
    parameters."""
    from sqlalchemy import text

    from tracker.core.store.library import Library

    with Library.open(tmp_path / "lib", create=True) as lib, lib.session() as s:
        try:
            s.execute(text("INSERT INTO nowhere VALUES (:secret)"), {"secret": "private note"})
        except Exception as exc:
            message = str(exc)
        else:  # pragma: no cover
            raise AssertionError("the statement should have failed")
    assert "nowhere" in message and "private note" not in message


def test_a_path_the_system_refuses_is_a_sentence_and_exit_2(tmp_path: Path) -> None:
    result = run_cli("--library", str(tmp_path / ("a" * 300)), "list", "clients")
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert (
        result.stderr.rstrip().endswith("File name too long.") and "report it" not in result.stderr
    )
