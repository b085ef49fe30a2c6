"""Rendering lists as a table, JSON or CSV: the contract scripts rely on.

JSON is a list of flat objects with stable snake_case keys (values are scalars or lists of
scalars). CSV joins lists with ``;`` and defuses cells that a spreadsheet would run as a
formula. Tables escape Rich markup, because every string may come from a hostile report.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Annotated, Any, TextIO

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
"""The ``--format`` option every list command takes."""


Row = Mapping[str, Any]
Column = tuple[str, str]  # (key, header)

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_PIPE_WIDTH = 200
_MIN_COLUMN = 24


def emit(
    rows: Sequence[Row],
    columns: Sequence[Column],
    fmt: OutputFormat,
    *,
    title: str | None = None,
    stream: TextIO | None = None,
    wrap: bool = False,
) -> None:
    """Write ``rows``: all keys for JSON and CSV, the chosen ``columns`` for the table (one
    line per row, or with ``wrap`` the last column folded over lines)."""
    out = stream or sys.stdout
    if fmt is OutputFormat.JSON:
        json.dump([dict(row) for row in rows], out, indent=2, ensure_ascii=False)
        out.write("\n")
    elif fmt is OutputFormat.CSV:
        keys = list(rows[0].keys()) if rows else [key for key, _ in columns]
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(keys)
        for row in rows:
            writer.writerow([_csv_cell(row.get(key)) for key in keys])
    else:
        table = Table(title=title, show_lines=False, header_style="bold")
        cells = [[_table_cell(row.get(key)) for key, _ in columns] for row in rows]
        for index, (_, header) in enumerate(columns):
            # One line per row, cut with an ellipsis (JSON and CSV carry the full values);
            # short columns keep their width, long text gives way first.
            widest = max((len(line[index]) for line in cells), default=0)
            folds = wrap and index == len(columns) - 1
            table.add_column(
                header,
                no_wrap=not folds,
                overflow="fold" if folds else "ellipsis",
                min_width=min(max(widest, len(header)), _MIN_COLUMN),
            )
        for line in cells:
            table.add_row(*(Text(cell) for cell in line))
        console = Console(file=out) if stream else Console()
        if not console.is_terminal and "COLUMNS" not in os.environ:
            console.width = _PIPE_WIDTH  # a pipe or a log: room for the columns
        console.print(table)
        if not rows:
            console.print("(none)")


def emit_record(record: Row, fmt: OutputFormat, *, stream: TextIO | None = None) -> None:
    """One object: JSON as an object, otherwise a two-column key/value table."""
    out = stream or sys.stdout
    if fmt is OutputFormat.JSON:
        json.dump(dict(record), out, indent=2, ensure_ascii=False)
        out.write("\n")
        return
    rows = [{"field": key, "value": value} for key, value in record.items()]
    emit(rows, [("field", "field"), ("value", "value")], fmt, stream=stream, wrap=True)


def _table_cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return str(value)
    text = ";".join(str(v) for v in value) if isinstance(value, list | tuple) else str(value)
    if text.startswith(_FORMULA_PREFIXES):
        return "'" + text
    return text
