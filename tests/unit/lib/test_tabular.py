"""Uploaded tables: XLSX zip bombs are refused before openpyxl parses them, fast; good files read."""

import time

import pytest

from service.lib import tabular
from service.lib.tabular import TabularFileError, read_table
from tests.factories_registry import shared_strings, xlsx_bytes, xlsx_with_part

STRINGS = "xl/sharedStrings.xml"
SHEET = "xl/worksheets/sheet1.xml"


def read(content: bytes) -> list[list[str]]:
    return read_table(content, "f.xlsx", max_rows=20_000)


def refused_fast(content: bytes, words: str) -> float:
    start = time.perf_counter()
    with pytest.raises(TabularFileError, match=words):
        read(content)
    return time.perf_counter() - start


def cells(count: int):
    ns = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    yield b'<?xml version="1.0"?><worksheet xmlns="' + ns + b'"><sheetData><row r="1">'
    for start in range(0, count, 100_000):
        yield b'<c t="n"><v>1</v></c>' * min(100_000, count - start)
    yield b"</row></sheetData></worksheet>"


class TestZipBombs:
    def test_ten_million_shared_strings_are_refused_by_their_declared_size(self):
        bomb = xlsx_with_part(STRINGS, shared_strings(10_000_000))
        assert len(bomb) < 1_000_000
        assert refused_fast(bomb, "more than 50 MB") < 1

    def test_a_false_declared_size_is_caught_while_reading(self):
        bomb = xlsx_with_part(STRINGS, shared_strings(4_000_000), declared_size=1000)
        assert refused_fast(bomb, "50 MB|damaged") < 2

    def test_too_many_shared_strings_under_the_size_limit(self):
        bomb = xlsx_with_part(STRINGS, shared_strings(tabular.MAX_SHARED_STRINGS + 1))
        assert refused_fast(bomb, "500,000 texts") < 2

    def test_prefixed_shared_strings_count_too(self):
        pieces = (p.replace(b"<si>", b"<x:si>").replace(b"</si>", b"</x:si>") for p in shared_strings(600_000))
        assert refused_fast(xlsx_with_part(STRINGS, pieces), "500,000 texts") < 2

    def test_too_many_cells(self):
        bomb = xlsx_with_part(SHEET, cells(tabular.MAX_CELLS + 1))
        assert refused_fast(bomb, "1,000,000 cells") < 2

    def test_a_large_other_part_is_refused(self):
        bomb = xlsx_with_part("xl/styles.xml", iter([b"<styleSheet>" + b" " * (11 * 1024 * 1024) + b"</styleSheet>"]))
        assert refused_fast(bomb, "10 MB") < 2


class TestReadable:
    def test_strings_split_across_chunks_are_all_counted(self):
        # 1 MB chunks cut through entries; the count must still be exact.
        content = xlsx_with_part(STRINGS, shared_strings(tabular.MAX_SHARED_STRINGS, b"x" * 7))
        tabular.check_xlsx(content)
        over = xlsx_with_part(STRINGS, shared_strings(tabular.MAX_SHARED_STRINGS + 1, b"x" * 7))
        with pytest.raises(TabularFileError, match="texts"):
            tabular.check_xlsx(over)

    def test_an_ordinary_workbook_reads(self):
        table = read(xlsx_bytes([{"상호": "은평나눔", "소개": 12.0}]))
        assert table[1][0] == "은평나눔" and "12" in table[1]

    def test_cp949_csv_reads(self):
        assert read_table("기관,연도\r\n마포구청,2021\r\n".encode("cp949"), "a.csv", max_rows=10) == [
            ["기관", "연도"],
            ["마포구청", "2021"],
        ]
