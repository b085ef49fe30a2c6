"""Text from hostile sources, made safe to store and to show in a terminal."""

from __future__ import annotations

import re

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~@])")
# C0 and C1 control characters except tab and newline, DEL, and the Unicode bidi overrides
# that can make displayed text differ from what is stored (Trojan Source).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean(value: str, max_length: int | None = None) -> str:
    """Remove control characters; cut to ``max_length`` characters with an ellipsis."""
    if not value.isprintable():  # printable text (most) has none of them: skip the search
        value = _CONTROL.sub("", value)
    if max_length is not None and len(value) > max_length:
        value = value[: max_length - 1] + "…"
    return value


def one_line(value: str, max_length: int | None = None) -> str:
    """``clean`` and fold all white space (newlines included) into single spaces."""
    return clean(" ".join(value.split()), max_length)


def markdown_text(value: object, max_length: int = 200) -> str:
    """Plain text in Markdown (a table cell, a list item): one line, with Markdown and HTML
    neutralised, so a hostile title cannot close a table, add a link or mention someone."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", one_line(str(value), max_length))


def markdown_code(value: object, max_length: int = 200) -> str:
    """A value shown as code: backticks inside are replaced, a pipe escaped (tables)."""
    text = one_line(str(value), max_length).replace("`", "'").replace("|", "\\|")
    return f"`{text}`"
