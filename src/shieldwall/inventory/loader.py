"""Reading an inventory file (YAML, or CSV of services or of teams) into an ``InventorySpec``.

Problems are reported with the file and line, all of them at once, and nothing is applied.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

from shieldwall.errors import InputError
from shieldwall.inventory.schemas import InventorySpec, ServiceSpec, TeamSpec
from shieldwall.structured import LocatedDocument, load_yaml, read_text, validate

_LIST_SPLIT = re.compile(r"[;,\s]+")
_SERVICE_COLUMNS = set(ServiceSpec.model_fields)
_TEAM_COLUMNS = set(TeamSpec.model_fields)
_LIST_COLUMNS = {"data", "members"}


def load_inventory(path: Path, max_bytes: int) -> tuple[InventorySpec, LocatedDocument]:
    text = read_text(path, max_bytes)
    if path.suffix.lower() == ".csv":
        document = _csv_document(path, text)
    else:
        document = load_yaml(path, text)
        if document.data is not None and not isinstance(document.data, dict):
            raise InputError.in_file(
                path, "the top level must be a mapping with teams/services/people", 1
            )
    return validate(document, InventorySpec), document


def _csv_document(path: Path, text: str) -> LocatedDocument:
    """A CSV of services (it has a ``team`` column) or of teams, as the YAML shape."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [column.strip().lower() for column in next(reader)]
    except StopIteration:
        raise InputError.in_file(path, "empty CSV file") from None
    except csv.Error as exc:
        raise InputError.in_file(path, f"not valid CSV: {exc}", 1) from exc
    kind, allowed = ("services", _SERVICE_COLUMNS) if "team" in header else ("teams", _TEAM_COLUMNS)
    unknown = [column for column in header if column not in allowed]
    if unknown:
        raise InputError.in_file(
            path,
            f"unknown column {unknown[0]!r} for a {kind} CSV "
            f"(columns: {', '.join(sorted(allowed))})",
            1,
        )
    if len(set(header)) != len(header):
        raise InputError.in_file(path, "a column name appears twice", 1)
    document = LocatedDocument(path, {kind: []}, {(): 1, (kind,): 1})
    rows: list[dict[str, Any]] = document.data[kind]
    try:
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > len(header):
                raise InputError.in_file(
                    path, f"{len(cells)} cells but {len(header)} columns", line
                )
            row = {
                column: _cell(column, cell)
                for column, cell in zip(header, cells, strict=False)
                if cell.strip()
            }
            index = len(rows)
            rows.append(row)
            document.lines[(kind, index)] = line
    except csv.Error as exc:
        raise InputError.in_file(path, f"not valid CSV: {exc}", reader.line_num) from exc
    return document


def _cell(column: str, cell: str) -> Any:
    value = cell.strip()
    if column in _LIST_COLUMNS:
        return [item for item in _LIST_SPLIT.split(value) if item]
    return value
