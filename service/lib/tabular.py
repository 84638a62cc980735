"""Reading uploaded tables (CSV or XLSX) safely, for every import (registry, purchases).

CSV may be UTF-8 (with or without BOM) or CP949/EUC-KR. XLSX is read with openpyxl in
read-only mode (first sheet). An XLSX is a zip of XML, so a small upload can expand to
gigabytes or hold millions of shared strings (a 414 KB file with 10 M entries took 54 s and
900 MB in openpyxl): before openpyxl sees it, `check_xlsx` reads every member of the zip
(streamed, never more than the limits) and refuses the file when it holds too many members,
too many uncompressed bytes (declared or actual), shared strings or cells.

Parsing is CPU work: callers run `read_table` (or their whole parse) with `off_loop`, in a
worker thread, so the event loop keeps answering other requests meanwhile.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
import zlib
from collections.abc import Callable
from datetime import date, datetime, time
from functools import partial
from typing import IO, Any, ParamSpec, TypeVar

import anyio.to_thread
from litestar import Request

# Only the first MAX_COLUMNS cells of a row are read: a sheet may claim thousands of columns.
MAX_COLUMNS = 60
# Limits of an XLSX file once unzipped. A 20,000-row import with 16 columns is about 15 MB of XML,
# 320,000 cells and at most as many shared strings.
MAX_XLSX_MEMBERS = 1_000
MAX_XLSX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
# Parts other than worksheets and shared strings (styles, workbook, themes...) are small.
MAX_XLSX_PART_BYTES = 10 * 1024 * 1024
MAX_SHARED_STRINGS = 500_000
MAX_CELLS = 1_000_000

_CHUNK = 256 * 1024  # small reads: the regex holds the GIL for one chunk at a time
# An element start with an optional namespace prefix (`<si>`, `<x:si `); each match holds one `<`.
_SHARED_STRING = re.compile(rb"<(?:[A-Za-z_][\w.-]{0,40}:)?si[\s/>]")
_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]{0,40}:)?c[\s/>]")

P = ParamSpec("P")
T = TypeVar("T")


# An uploaded file, and the whole request body that carries it (the file plus its envelope):
# larger bodies are refused with 413 by the route's request_max_body_size.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_IMPORT_BODY_BYTES = MAX_UPLOAD_BYTES + 64 * 1024


class TabularFileError(ValueError):
    """The file as a whole cannot be read (format, encoding, size, limits)."""


async def read_upload(request: Request[Any, Any, Any]) -> tuple[bytes, str]:
    """The multipart field `file` (CSV or XLSX): its bytes and file name."""
    from service.lib.errors import ValidationFailed

    form = await request.form()
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise ValidationFailed.single("file", "required (multipart field 'file')")
    content = await upload.read()
    if len(content) > MAX_UPLOAD_BYTES:
        raise ValidationFailed.single("file", "larger than 20 MB")
    return content, upload.filename or "upload.csv"


async def read_upload_or_body(request: Request[Any, Any, Any]) -> tuple[bytes, str]:
    """The multipart field `file`, or (the older form) the raw file as the request body, its
    Content-Type saying XLSX (…spreadsheetml…) or CSV."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        return await read_upload(request)
    body = await request.body()
    return body, "upload.xlsx" if "spreadsheetml" in content_type else "upload.csv"


async def off_loop(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a parse in a worker thread: the event loop keeps serving while it works."""
    return await anyio.to_thread.run_sync(partial(function, *args, **kwargs))


def decode(content: bytes) -> str:
    """UTF-8 (BOM optional), else CP949 (a superset of EUC-KR). Anything else is refused."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in content[:4096]:
        raise TabularFileError("UTF-16 or binary files are not supported: save the sheet as CSV (UTF-8) or XLSX")
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("cp949")
    except UnicodeDecodeError as exc:
        raise TabularFileError("the file is neither UTF-8 nor CP949/EUC-KR text") from exc


def is_xlsx(content: bytes, filename: str = "") -> bool:
    return filename.lower().endswith(".xlsx") or content.startswith(b"PK\x03\x04")


def cell_text(value: Any) -> str:
    """A spreadsheet cell as the text staff typed: dates ISO, whole floats without `.0`."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_table(
    content: bytes, filename: str, *, max_rows: int, max_columns: int = MAX_COLUMNS, formulas: bool = True
) -> list[list[str]]:
    """Rows of cells (strings), header first; at most `max_rows` + 2 rows are read, so a caller
    can tell a file over its limit. `formulas=True` reads an XLSX formula cell as its formula
    (so it can be refused, never evaluated); False reads the value the spreadsheet cached."""
    if is_xlsx(content, filename):
        return _read_xlsx(content, max_rows, max_columns, formulas)
    text = decode(content)
    table: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(text, newline="")):
            table.append([c.strip() for c in row[:max_columns]])
            if len(table) > max_rows + 1:
                break
    except csv.Error as exc:  # NUL bytes, a field over csv's size limit, a broken quote
        raise TabularFileError(f"not a readable CSV file ({exc})") from exc
    return table


def _count(member: IO[bytes], pattern: re.Pattern[bytes] | None, budget: int) -> tuple[int, int]:
    """(uncompressed bytes, matches of `pattern`) of one zip member, reading at most `budget` + 1 bytes."""
    size = count = 0
    carry = b""
    while True:
        chunk = member.read(min(_CHUNK, budget - size + 1))
        if not chunk:
            break
        size += len(chunk)
        if size > budget:
            return size, count
        if pattern is not None:
            buffer = carry + chunk
            # Cut at the last `<`: a match holds a single `<`, so none straddles the cut.
            cut = buffer.rfind(b"<")
            if cut < 0:
                count += len(pattern.findall(buffer))
                carry = b""
            else:
                count += len(pattern.findall(buffer, 0, cut))
                carry = buffer[cut:]
    if pattern is not None and carry:
        count += len(pattern.findall(carry))
    return size, count


def check_xlsx(content: bytes) -> None:
    """Refuse a zip bomb before openpyxl parses it: members, uncompressed bytes (declared and
    actual), shared strings and cells are all bounded."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
            if len(members) > MAX_XLSX_MEMBERS:
                raise TabularFileError(f"the .xlsx file holds more than {MAX_XLSX_MEMBERS:,} parts")
            if sum(m.file_size for m in members) > MAX_XLSX_UNCOMPRESSED_BYTES:
                raise TabularFileError(_TOO_BIG)
            tally = _XlsxTally()
            for info in members:
                tally.count(archive, info)
    except TabularFileError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError) as exc:
        raise TabularFileError("not a readable .xlsx file (damaged or truncated)") from exc


_TOO_BIG = (
    f"the .xlsx file expands to more than {MAX_XLSX_UNCOMPRESSED_BYTES // (1024 * 1024)} MB; split it or save it as CSV"
)


class _XlsxTally:
    """Uncompressed bytes, shared strings and cells counted part by part, each part read only as far
    as the bounds left allow (a lying zip header cannot make it read more)."""

    def __init__(self) -> None:
        self.total = self.strings = self.cells = 0

    def count(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
        name = info.filename.lower()
        pattern: re.Pattern[bytes] | None = None
        if name.endswith("sharedstrings.xml"):
            pattern = _SHARED_STRING
        elif "worksheets/" in name and name.endswith(".xml"):
            pattern = _CELL
        budget = MAX_XLSX_UNCOMPRESSED_BYTES - self.total
        if pattern is None:
            budget = min(budget, MAX_XLSX_PART_BYTES)
        with archive.open(info) as member:
            size, found = _count(member, pattern, budget)
        if size > budget:
            if self.total + size > MAX_XLSX_UNCOMPRESSED_BYTES:
                raise TabularFileError(_TOO_BIG)
            part_mb = MAX_XLSX_PART_BYTES // (1024 * 1024)
            raise TabularFileError(f"a part of the .xlsx file expands to more than {part_mb} MB")
        self.total += size
        if pattern is _SHARED_STRING:
            self.strings += found
            if self.strings > MAX_SHARED_STRINGS:
                raise TabularFileError(f"the .xlsx file holds more than {MAX_SHARED_STRINGS:,} texts")
        elif pattern is _CELL:
            self.cells += found
            if self.cells > MAX_CELLS:
                raise TabularFileError(f"the .xlsx file holds more than {MAX_CELLS:,} cells")


def _read_xlsx(content: bytes, max_rows: int, max_columns: int, formulas: bool) -> list[list[str]]:
    from openpyxl import load_workbook

    check_xlsx(content)
    # openpyxl raises many kinds (BadZipFile, KeyError, XML errors, EOFError...) for a broken file.
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=not formulas)
    except Exception as exc:
        raise TabularFileError("not a readable .xlsx file") from exc
    table: list[list[str]] = []
    try:
        if not workbook.worksheets:
            raise TabularFileError("the workbook has no sheet")
        for row in workbook.worksheets[0].iter_rows(values_only=True, max_col=max_columns):
            table.append([cell_text(v) for v in row])
            if len(table) > max_rows + 1:
                break
    except TabularFileError:
        raise
    except Exception as exc:
        raise TabularFileError("not a readable .xlsx file (damaged or truncated)") from exc
    finally:
        workbook.close()
    return table
