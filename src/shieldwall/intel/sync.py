"""``intel sync``: download the feeds from their publishers, then load them.

The only part of Shieldwall that reaches the network, and only when a person asks. Each
feed is downloaded to a temporary file (streamed, size-capped) and loaded like a file the
user gave; a feed that cannot be fetched is reported and the others still load.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from shieldwall.errors import ShieldwallError

MAX_DOWNLOAD = 4 * 1024**3
_TIMEOUT = httpx.Timeout(30.0, connect=10.0)

# Progress callbacks: (feed, bytes so far, total bytes or None).
Progress = Callable[[str, int, int | None], None]


@dataclass(frozen=True)
class Source:
    feed: str
    """``kev``, ``epss`` or ``osv:<ecosystem>``."""
    url: str
    filename: str


class DownloadError(ShieldwallError):
    """A feed could not be fetched; the message says from where and why."""


def sources(kev_url: str, epss_url: str, osv_url: str, ecosystems: list[str]) -> list[Source]:
    """``osv_url`` holds ``{ecosystem}`` where the ecosystem's name goes."""
    return [
        Source("kev", kev_url, "kev.json"),
        Source("epss", epss_url, "epss.csv.gz"),
        *(
            Source(f"osv:{e}", osv_url.replace("{ecosystem}", e), f"osv-{i}.zip")
            for i, e in enumerate(ecosystems)
        ),
    ]


def download(source: Source, folder: Path, progress: Progress | None = None) -> Path:
    target = folder / source.filename
    host = urlsplit(source.url).hostname or source.url
    try:
        with (
            httpx.Client(timeout=_TIMEOUT, follow_redirects=True) as client,
            client.stream("GET", source.url) as response,
        ):
            if response.status_code != 200:
                raise DownloadError(
                    f"{source.feed}: {source.url} answered HTTP {response.status_code}"
                )
            total = response.headers.get("content-length")
            size = 0
            with target.open("wb") as out:
                for chunk in response.iter_bytes(1024 * 1024):
                    size += len(chunk)
                    if size > MAX_DOWNLOAD:
                        raise DownloadError(f"{source.feed}: {source.url} is over 4 GiB")
                    out.write(chunk)
                    if progress:
                        progress(source.feed, size, int(total) if total else None)
    except httpx.ConnectError as exc:
        raise DownloadError(
            f"{source.feed}: cannot reach {host} (no network?): {exc}. On a machine without "
            "network, load files with `shieldwall intel load` or a bundle with "
            "`shieldwall intel import-bundle`."
        ) from exc
    except httpx.HTTPError as exc:
        raise DownloadError(f"{source.feed}: downloading {source.url} failed: {exc}") from exc
    return target


def workspace() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="shieldwall-sync-")
