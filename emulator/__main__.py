"""``python -m emulator``: run the SES emulator until SIGINT or SIGTERM.

Every flag also reads ``SES_EMULATOR_<FIELD>`` (e.g. ``SES_EMULATOR_PORT=0``,
``SES_EMULATOR_VERIFIED_IDENTITIES=a@example.com,example.com``); a flag beats its variable.
When the server accepts requests it prints exactly one line to stdout::

    seskit emulator listening on http://127.0.0.1:4579

(``--port 0`` picks a free port, and that line shows which.) With ``--split`` the emulator
runs as two processes, an HTTP front and this one owning the state (`emulator.split`); the
line is printed once both accept requests.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from emulator.config import OPTIONS, DataDirError, Settings, SettingsError

__all__ = ["build_parser", "main", "settings_from"]

log = logging.getLogger("emulator")

READY_LINE = "seskit emulator listening on {url}"


def build_parser() -> argparse.ArgumentParser:
    """The CLI: one flag per `emulator.config.OPTIONS` entry, defaults from the environment."""
    parser = argparse.ArgumentParser(
        prog="python -m emulator",
        description="A local Amazon SES emulator speaking SES v1 (Query/XML) and v2 (REST-JSON).",
        epilog="Every flag can also be set as SES_EMULATOR_<NAME> (e.g. SES_EMULATOR_PORT).",
    )
    for option in OPTIONS:
        kwargs: dict[str, Any] = {"dest": option.field, "default": None}
        help_text = f"{option.help} [env {option.env}]"
        if option.switch:
            kwargs["action"] = argparse.BooleanOptionalAction
        elif option.repeatable:
            kwargs.update(action="append", type=option.parse, metavar="VALUE")
        else:
            kwargs.update(type=option.parse, choices=option.choices)
        parser.add_argument(option.flag, help=help_text, **kwargs)
    return parser


def settings_from(argv: Sequence[str] | None, environ: Mapping[str, str]) -> Settings:
    """Settings from the environment, then the command line (which wins)."""
    args = build_parser().parse_args(argv)
    overrides = {
        option.field: tuple(value) if option.repeatable else value
        for option in OPTIONS
        if (value := getattr(args, option.field)) is not None
    }
    return Settings.from_env(environ, **overrides)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point (``ses-emulator``); returns the exit status."""
    try:
        settings = settings_from(argv, os.environ)
    except SettingsError as exc:
        print(f"python -m emulator: error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not _is_loopback(settings.host):
        log.warning(
            "listening on %s, which is not a loopback address: anyone who can reach this "
            "port can use the emulator",
            settings.host,
        )
    # Each way of serving imports what it needs when it starts: --split's owner starts its
    # front before it imports the emulator, so both interpreters load at once (emulator/split.py).
    if settings.split:
        from emulator.split import serve_split as serve  # noqa: PLC0415 - see above
    else:
        from emulator.server import serve  # noqa: PLC0415 - see above
    try:
        return asyncio.run(serve(settings, ready_line=READY_LINE))
    except OSError as exc:
        log.error("cannot listen on %s:%s: %s", settings.host, settings.port, exc)
        return 1
    except (DataDirError, SettingsError) as exc:  # a bad --data-dir or --credentials-file
        print(f"python -m emulator: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
