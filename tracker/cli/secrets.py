"""Secrets a command needs: read from an environment variable when it is set (for scripts;
docs/CLI.md says its risk), else typed at the terminal without echo; refused with a sentence
when there is neither. Shared by encrypted folder libraries (``unlock``) and clinic libraries
(``clinic_library``, ``clinic``)."""

from __future__ import annotations

import getpass
import os
import sys

from tracker.core.errors import UsageError

ENV_PASSPHRASE = "TRACKER_PASSPHRASE"
ENV_RECOVERY = "TRACKER_RECOVERY_KEY"
# ``clinic migrate-from``'s encrypted folder, whose secret is not the clinic library's (which
# ``TRACKER_PASSPHRASE`` gives, as for every clinic command): a variable each, so that one
# library's passphrase is never tried on the other (a failed attempt in its audit trail).
ENV_FOLDER_PASSPHRASE = "TRACKER_FOLDER_PASSPHRASE"
ENV_FOLDER_RECOVERY = "TRACKER_FOLDER_RECOVERY_KEY"


def secret(prompt: str, env: str, what: str) -> str:
    """A secret from ``env`` when it is set, else typed at the terminal without echo."""
    given = os.environ.get(env)
    if given:
        return given
    if not sys.stdin.isatty():
        raise UsageError(
            f"The {what} is needed and there is no terminal to type it in; run the command in "
            f"a terminal, or set {env} (see docs/CLI.md for its risk)."
        )
    return getpass.getpass(prompt)


def unlocking(recovery: bool, where: str) -> dict[str, str]:
    """``passphrase=`` (or, ``recovery``, ``recovery_key=``) for the library at ``where``."""
    if recovery:
        return {"recovery_key": secret(f"Recovery key for {where}: ", ENV_RECOVERY, "recovery key")}
    return {"passphrase": secret(f"Passphrase for {where}: ", ENV_PASSPHRASE, "passphrase")}


def folder_unlocking(recovery: bool, where: str) -> dict[str, str]:
    """``unlocking`` for the library folder at ``where`` that ``clinic migrate-from`` moves
    into a clinic library, from its own variables (``ENV_FOLDER_*``) or typed."""
    if recovery:
        return {
            "recovery_key": secret(
                f"Recovery key for the library folder {where}: ",
                ENV_FOLDER_RECOVERY,
                "library folder's recovery key",
            )
        }
    return {
        "passphrase": secret(
            f"Passphrase for the library folder {where}: ",
            ENV_FOLDER_PASSPHRASE,
            "library folder's passphrase",
        )
    }


def given(recovery: bool) -> dict[str, str]:
    """What the environment gives of ``unlocking``'s, asked for nothing: {} when unset."""
    env = ENV_RECOVERY if recovery else ENV_PASSPHRASE
    value = os.environ.get(env)
    if not value:
        return {}
    return {"recovery_key": value} if recovery else {"passphrase": value}
