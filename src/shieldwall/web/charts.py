"""Charts as SVG coordinates, drawn by the templates (``macros.html``): no script and no
inline style, so the Content Security Policy stays strict."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from shieldwall.risk.burndown import Burndown


@dataclass(frozen=True)
class Axes:
    """``count`` evenly spaced points along x, from 0 to ``top`` along y."""

    count: int
    top: float
    first: str
    """The labels of the first and the last x."""
    last: str
    width: int = 720
    height: int = 200
    pad: int = 30

    def x(self, index: float) -> float:
        return self.pad + index * (self.width - 2 * self.pad) / max(self.count - 1, 1)

    def y(self, value: float) -> float:
        return self.height - self.pad - (value / (self.top or 1)) * (self.height - 2 * self.pad)

    def line(self, values: Sequence[float]) -> str:
        """``polyline`` points through one value per x."""
        return " ".join(f"{self.x(i):.1f},{self.y(v):.1f}" for i, v in enumerate(values))

    def steps(self, values: Sequence[float]) -> str:
        """``polyline`` points that hold each value until the next x, then drop (or rise)."""
        points = [(0.0, values[0])] if values else []
        for index in range(1, len(values)):
            points += [(index, values[index - 1]), (index, values[index])]
        return " ".join(f"{self.x(i):.1f},{self.y(v):.1f}" for i, v in points)


def trend_chart(points: Sequence[tuple[date, int]]) -> dict[str, object]:
    """The home page's open findings a day."""
    axes = Axes(
        count=len(points),
        top=max((count for _, count in points), default=0) or 1,
        first=points[0][0].isoformat() if points else "",
        last=points[-1][0].isoformat() if points else "",
    )
    return {
        "axes": axes,
        "line": axes.line([count for _, count in points]),
        "start": points[0][1] if points else 0,
        "latest": points[-1][1] if points else 0,
    }


def burndown_chart(burn: Burndown) -> dict[str, object]:
    """The queue page's SLA burn-down (see ``risk.burndown``)."""
    axes = Axes(
        count=len(burn.allowed),
        top=burn.open_now or 1,
        first=burn.today.isoformat(),
        last=burn.horizon.isoformat(),
        height=220,
    )
    return {
        "axes": axes,
        "allowed": axes.steps(burn.allowed),
        "projected": axes.line(burn.projected),
        "burn": burn,
    }
