"""A table to download (title, columns, rows of plain values) written as CSV or an .xlsx workbook."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

Cell = str | int | float | bool | None
MAX_COLUMN_WIDTH = 60


@dataclass(frozen=True)
class Table:
    """One sheet: its title (sheet name), column headers, rows and a line saying what it holds."""

    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Cell]]
    note: str = ""


def to_csv(table: Table) -> bytes:
    """UTF-8 with a BOM so spreadsheet programs read the Chinese headers; the note is not written."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(table.columns)
    writer.writerows([["" if cell is None else _inert(cell) for cell in row] for row in table.rows])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(tables: Sequence[Table]) -> bytes:
    """One sheet per table: bold header row frozen, a filter on it, columns sized to their text."""
    book = Workbook()
    book.remove(book.active)
    for table in tables:
        _sheet(book, table)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _sheet(book: Workbook, table: Table) -> None:
    sheet = book.create_sheet(_sheet_name(table.title))
    sheet.append(list(table.columns))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        sheet.append(list(row))
        for cell in sheet[sheet.max_row]:
            if cell.data_type == "f":  # text that looks like a formula stays text: no injection
                cell.data_type = "s"
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    for index, header in enumerate(table.columns, start=1):
        values = [header, *(row[index - 1] for row in table.rows[:200])]
        width = max(_display_width(value) for value in values) + 2
        sheet.column_dimensions[get_column_letter(index)].width = min(width, MAX_COLUMN_WIDTH)
    if table.note:
        sheet.append([])
        sheet.append([table.note])


def _inert(cell: Cell) -> Cell:
    """CSV text that a spreadsheet would run as a formula (=, +, -, @ first) gets a leading quote."""
    if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@"):
        return "'" + cell
    return cell


def _display_width(value: object) -> int:
    """Columns wide enough for CJK text (two units per wide character)."""
    text = "" if value is None else str(value)
    return sum(2 if ord(char) > 0x2E7F else 1 for char in text)


def _sheet_name(title: str) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\."""
    cleaned = "".join("_" if char in "[]:*?/\\" else char for char in title)
    return cleaned[:31] or "Sheet"
