"""`TextForms`: the CLI's four output forms as methods, for the API's result objects whose text the CLI's own
formatters write (`_format("table" | "json" | "csv" | "markdown")`)."""

from __future__ import annotations

import json
from typing import Any


class TextForms:
    """`str()` is the terminal table; `to_dict()`, `to_json()`, `to_csv()`, `to_markdown()` the `--format`s."""

    def _format(self, form: str) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return self._format("table")

    def to_dict(self) -> dict[str, Any]:
        return json.loads(self._format("json"))

    def to_json(self) -> str:
        return self._format("json")

    def to_csv(self) -> str:
        return self._format("csv")

    def to_markdown(self) -> str:
        return self._format("markdown")
