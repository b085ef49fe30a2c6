"""Threat models from other tools, turned into Shieldwall model files.

One module per format, each defining an ``IMPORTER`` (see ``base.Importer``); ``IMPORTERS``
is the registry the CLI offers with ``--from``. An import yields the model and notes on what
could not be carried over; ``dump_model`` writes the model as a model file that
``threatmodel.model.parse_model`` reads back to the same model.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import yaml

from shieldwall.errors import InputError
from shieldwall.text import one_line
from shieldwall.threatmodel.importers import pytm, threagile, threat_dragon, tmbom
from shieldwall.threatmodel.importers.base import Importer, ImportResult
from shieldwall.threatmodel.schemas import ThreatModelSpec

__all__ = ["IMPORTERS", "ImportResult", "Importer", "dump_model", "import_model"]

IMPORTERS: dict[str, Importer] = {
    importer.name: importer
    for importer in (threagile.IMPORTER, pytm.IMPORTER, threat_dragon.IMPORTER, tmbom.IMPORTER)
}


def import_model(path: Path, source: str) -> ImportResult:
    """The model in the file at ``path``, written by the tool named ``source``."""
    importer = IMPORTERS.get(source)
    if importer is None:
        raise InputError(
            f"unknown threat model format {source!r}: choose one of {', '.join(IMPORTERS)}"
        )
    return importer.read(path)


def dump_model(
    spec: ThreatModelSpec, *, imported_from: str | None = None, notes: Iterable[str] = ()
) -> str:
    """The model as a model file: keys in the order of the schema, default values left out
    so the file stays short, and a header saying where it came from (an import's
    ``ImportResult.origin``) with the import's notes, for the reviewer."""
    header = [
        f"# Imported from {imported_from} by Shieldwall." if imported_from else "# Shieldwall.",
        "# Review it: an import carries over what the other tool knew, no more.",
    ]
    notes = [one_line(note) for note in notes]
    if notes:
        header += ["#", "# Import notes:", *(f"# - {note}" for note in notes)]
    document = spec.model_dump(mode="json", exclude_defaults=True)
    if spec.reviewed is not None:
        document["reviewed"] = spec.reviewed  # a YAML date, not a quoted string
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
    return "\n".join(one_line(line) for line in header) + "\n" + body
