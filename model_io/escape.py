"""Escaping of user-supplied strings (layer names, file keys, model paths, op names) for every text NetCost writes.

A name is data, never markup: on a terminal a `\\n` would forge a second output line and an ANSI escape would clear
the screen; in a spreadsheet a cell starting with `=` is a formula (OWASP "CSV injection"); in Markdown a `|`
splits a table cell and `<script>` is HTML. One function per destination:

    printable(s)      terminals and one-line messages: control, bidi and invisible characters as \\n, \\x1b, \\u202e
    printable_lines   the same for text that is meant to be multi-line (a traceback): each line escaped
    csv_row(cells)    one CSV record (RFC 4180 quoting, bare CR included; formula cells get a leading ')
    markdown(s)       a Markdown table cell or line: printable, then | < > & escaped
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Any

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Cc: C0/C1 controls and DEL; Cf: format characters (bidi overrides U+202E, zero-width joiners, ...); Zl/Zp: the
# Unicode line and paragraph separators some terminals and editors break lines at.
_UNSAFE_CATEGORIES = ("Cc", "Cf", "Zl", "Zp")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")  # OWASP: cells a spreadsheet would evaluate


def _escape_char(c: str) -> str:
    if c in _NAMED:
        return _NAMED[c]
    n = ord(c)
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}" if n < 0x10000 else f"\\U{n:08x}"


def printable(text: Any) -> str:
    """`text` as one line that shows exactly what it holds and cannot move the cursor or restyle the terminal."""
    s = str(text)
    if s.isprintable():  # the common case, no per-character work (isprintable is False for every unsafe one)
        return s
    return "".join(_escape_char(c) if unicodedata.category(c) in _UNSAFE_CATEGORIES else c for c in s)


def short_path(path: Any, limit: int = 120) -> str:
    """A path for a message: its start and end around an ellipsis when longer than `limit` characters."""
    s = str(path)
    return s if len(s) <= limit else f"{s[:limit // 2 - 1]}…{s[-(limit // 2):]}"


def printable_lines(text: Any) -> str:
    """Multi-line text (a traceback) with each line made `printable` and the line breaks kept."""
    return "\n".join(printable(line) for line in str(text).split("\n"))


def failure_text(error: BaseException) -> str:
    """One escaped line for an unexpected failure: the OS reason for an OSError, else the type and message."""
    if isinstance(error, OSError) and error.strerror:
        return printable(error.strerror)
    return printable(f"{type(error).__name__}: {error}" if str(error) else type(error).__name__)


def csv_cell(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # our own numbers: a negative one stays a number
    s = str(value)
    if s.startswith(FORMULA_PREFIXES):
        s = "'" + s
    if any(c in s for c in ',"\r\n'):
        s = '"' + s.replace('"', '""') + '"'
    return s


def csv_row(cells: Iterable[Any]) -> str:
    """One CSV line ending in \\n. Python's csv module (3.11) leaves a bare CR unquoted when the line ends in \\n,
    which splits the record in most readers, hence this small writer."""
    return ",".join(csv_cell(c) for c in cells) + "\n"


_MARKDOWN = str.maketrans({"|": "\\|", "<": "&lt;", ">": "&gt;", "&": "&amp;", "\\": "\\\\"})


def markdown(text: Any) -> str:
    """A string safe in a Markdown table cell or list item: no line breaks, pipes, raw HTML or terminal escapes."""
    return printable(text).translate(_MARKDOWN)
