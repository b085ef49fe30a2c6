"""Errors that reach the user as one line and a documented exit code.

Exit codes are a contract with scripts: 0 ok, 1 a gate or check failed, 2 bad input or usage,
3 an internal error (a bug: the message says so and never carries a traceback unless
``SHIELDWALL_DEBUG=1``).
"""

from __future__ import annotations

from typing import Self

from shieldwall.text import one_line

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3


class ShieldwallError(Exception):
    """A problem the user can fix, shown as is: one line per problem.

    White space inside a line is folded, so text from a hostile file cannot add lines or
    terminal control sequences of its own.
    """

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str) -> None:
        lines = (one_line(line) for line in message.splitlines())
        super().__init__("\n".join(line for line in lines if line))
        self.message = str(self.args[0])


class InputError(ShieldwallError):
    """Bad input: a file, a flag value, a reference to something that does not exist."""

    @classmethod
    def in_file(cls, path: object, problem: str, line: int | None = None) -> Self:
        where = f"{path}:{line}" if line is not None else f"{path}"
        return cls(f"{where}: {problem}")


class NotFoundError(InputError):
    """A referenced entity does not exist (or is not visible to the caller)."""


class CheckFailed(ShieldwallError):
    """A check ran and failed (audit chain, gate): exit 1."""

    exit_code = EXIT_CHECK_FAILED
