"""`Figure`: an image of a report view (the diagram, a chart) that Jupyter shows inline and that saves as a file."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """An image of a report view: `svg` (text) and/or `png` (bytes); Jupyter shows it inline."""

    svg: str | None = None
    png: bytes | None = None

    def _repr_svg_(self) -> str | None:
        return self.svg

    def _repr_png_(self) -> bytes | None:
        return self.png if self.svg is None else None

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the image: .svg needs the SVG form, .png the PNG form."""
        p = os.fspath(path)
        if p.lower().endswith(".svg") and self.svg is not None:
            with open(p, "w", encoding="utf-8") as f:
                f.write(self.svg)
        elif p.lower().endswith(".png") and self.png is not None:
            with open(p, "wb") as f:
                f.write(self.png)
        else:
            raise ValueError(f"{p}: this figure is saved as {'.svg' if self.svg is not None else '.png'}")
