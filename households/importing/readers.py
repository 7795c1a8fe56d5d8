"""Read a template file (.xlsx, .xls, .csv) into ``(excel_row_number, [cells])`` rows, within bounds.

Cells come back as text, or as ``datetime.date`` for real Excel date cells. Numeric cells holding
codes read as their integer digits (``431300.0`` → ``431300``); a number of 16+ digits reads as what
Excel kept of it (15 significant digits), so a truncated ID number is recognised as such.

Every file is hostile until read: the format is sniffed from the content and must match the
extension; a workbook's zip members are checked (declared sizes, compression ratio) before anything
is unpacked; rows stream, at most the template's columns plus a margin and ``IMPORT_MAX_ROWS`` rows
are read, whatever dimension the sheet declares; CSV lines and cells have a length cap. A file
outside these bounds is refused with a ``FileError`` (exit status 2) instead of exhausting memory.
"""

import codecs
import contextlib
import csv
import datetime
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import xlrd
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

try:  # Rust reader, about 10x faster than openpyxl; openpyxl is the fallback.
    from python_calamine import CalamineWorkbook
except ImportError:  # pragma: no cover - depends on the installation
    # The optional-import idiom: ``None`` marks the reader missing (the tests set it so as well).
    CalamineWorkbook = None  # type: ignore[assignment,misc]  # an optional dependency's class or None

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
Row = tuple[int, dict[str, Any]]

# Columns read beyond the template's own: room for a few notes columns (reported as unknown).
EXTRA_COLUMNS = 20
# Without a template (an unknown kind): the widest sheet any template could need.
DEFAULT_MAX_COLUMNS = 100
# A run of empty rows this long ends the sheet: Excel's formatted-but-empty rows run to 1,048,576.
MAX_EMPTY_RUN = 1000
# One physical CSV line (characters): a template row is a few hundred; 4 Mi bounds the memory of one row.
MAX_LINE_CHARS = 4 * 1024 * 1024
# A workbook member larger than this must not be compressed more than MAX_ZIP_RATIO times.
ZIP_RATIO_FLOOR = 1024 * 1024
MAX_ZIP_RATIO = 100
CHUNK = 1 << 20
LABELS = {"xlsx": gettext_lazy(".xlsx 工作簿"), "xls": gettext_lazy(".xls 工作簿"), "csv": gettext_lazy("CSV 文本")}


class FileError(Exception):
    """The file as a whole cannot be imported (exit status 2)."""


@dataclass
class Table:
    headers: list[str]
    rows: Iterator[tuple[int, list[Any]]]
    format: str
    warnings: list[str] = field(default_factory=list)


def max_rows() -> int:
    return int(getattr(settings, "IMPORT_MAX_ROWS", 500_000))


def max_unzipped_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_UNZIPPED_MB", 300)) * 1024 * 1024


def cell_value(value: Any) -> Any:
    """Normalise one cell: ``None`` → ``""``, integral floats without ``.0``, dates as ``date``."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0):
            return value.date()
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            if abs(value) >= 1e15:
                # Excel keeps 15 significant digits: show what it kept, not binary noise.
                return str(int(Decimal(format(value, ".15g"))))
            return str(int(value))
        return repr(value)
    return str(value)


# --- sniffing ------------------------------------------------------------------------------------


def sniff_format(handle: IO[bytes]) -> str:
    """``xlsx``, ``xls`` or ``csv`` from the content (the handle is left at its start).

    A zip is a workbook only with ``[Content_Types].xml``; anything else that is neither a zip nor an
    OLE2 file is treated as text and checked as CSV while it is read."""
    head = handle.read(8)
    handle.seek(0)
    if head.startswith(XLSX_MAGIC):
        try:
            with zipfile.ZipFile(handle) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            raise FileError(_("无法读取该 .xlsx 文件：压缩包已损坏。请用 Excel 打开后另存为 .xlsx 再上传。")) from None
        finally:
            handle.seek(0)
        if "[Content_Types].xml" not in names:
            raise FileError(_("该文件是 zip 压缩包，不是 Excel 工作簿：请上传 .xlsx、.xls 或 .csv 文件。"))
        return "xlsx"
    if head.startswith(XLS_MAGIC):
        return "xls"
    return "csv"


def check_extension(name: str, fmt: str) -> None:
    """Refuse a file whose extension (.xlsx/.xls/.csv) says another format than its content."""
    suffix = Path(name or "").suffix.lower().lstrip(".")
    if suffix in LABELS and suffix != fmt:
        raise FileError(
            _(
                "文件内容与扩展名不符：扩展名是 .%(suffix)s，内容却是%(content)s。"
                "请在 Excel 中按实际格式另存（.xlsx、.xls 或 .csv）后重新上传。"
            )
            % {"suffix": suffix, "content": LABELS[fmt]}
        )


@contextlib.contextmanager
def _opened(source: str | Path | IO[bytes]) -> Iterator[tuple[IO[bytes], str]]:
    if isinstance(source, str | Path):
        with Path(source).open("rb") as handle:
            yield handle, str(source)
        return
    name = str(getattr(source, "name", "") or "")
    if getattr(source, "seekable", lambda: False)():
        yield source, name
        return
    data = source.read()
    yield io.BytesIO(data.encode() if isinstance(data, str) else data), name


def open_table(source: str | Path | IO[bytes], *, number_formats: bool = False, columns: int | None = None) -> Table:
    """Open ``source`` (a path or a binary file object), sniffing the format from its content.

    ``number_formats``: read .xlsx through openpyxl with cell formats, so a percent-formatted
    number (0.061 shown as 6.1%) reads as ``6.1%``. ``columns``: the template's column count (the
    reader reads at most that plus ``EXTRA_COLUMNS``). Rows are read lazily; the file stays open
    until they are consumed (or the table is dropped).
    """
    width = (columns + EXTRA_COLUMNS) if columns else DEFAULT_MAX_COLUMNS
    stack = contextlib.ExitStack()
    handle, name = stack.enter_context(_opened(source))
    try:
        fmt = sniff_format(handle)
        check_extension(name, fmt)
        if fmt == "xlsx":
            rows = _xlsx_rows(handle, stack, number_formats=number_formats, width=width)
        elif fmt == "xls":
            rows = _xls_rows(handle, width=width)
        else:
            rows = _csv_rows(handle, stack)
        table = _split(rows, fmt, width=width)
    except BaseException:
        stack.close()
        raise
    table.rows = _closing(table.rows, stack)
    return table


def _closing(rows: Iterator[Any], stack: contextlib.ExitStack) -> Iterator[Any]:
    with stack:
        yield from rows


def blank_row(values: list[Any]) -> bool:
    """Every cell empty or spaces (a loop, not ``all`` over a generator: once per row of the file)."""
    for value in values:  # noqa: SIM110 - measured: ~3x faster than all() here
        if value != "" and (not isinstance(value, str) or value.strip()):
            return False
    return True


def _split(rows: Iterator[list[Any]], fmt: str, *, width: int) -> Table:
    try:
        first = next(rows)
    except StopIteration:
        raise FileError("文件是空的：第 1 行应为表头。") from None
    if len(first) > width and not blank_row([cell_value(value) for value in first[width:]]):
        raise FileError(
            _("表头超过 %(width)s 列（模板的列数再加 %(extra)s 列）：请删除多余的列，只保留模板的表头后重新上传。")
            % {"width": width, "extra": EXTRA_COLUMNS}
        )
    headers = [str(cell_value(value)).strip().lstrip("\ufeff") for value in first[:width]]
    while headers and not headers[-1]:
        headers.pop()
    table = Table(headers=headers, rows=iter(()), format=fmt)
    table.rows = _bounded(rows, table, width=len(headers) or 1)
    return table


def _bounded(rows: Iterator[list[Any]], table: Table, *, width: int) -> Iterator[tuple[int, list[Any]]]:
    """Rows 2… cut to the header's width; refuses more than ``IMPORT_MAX_ROWS`` rows and stops after
    ``MAX_EMPTY_RUN`` empty rows in a row (with a warning, in case data follows)."""
    limit = max_rows()
    empty_run = 0
    for number, row in enumerate(rows, start=2):
        if number > limit + 1:
            raise FileError(
                _("文件超过 %(limit)s 行数据的上限：请分成几个文件分别导入（空行也计入，请删除表格末尾多余的行）。")
                % {"limit": limit}
            )
        values = row[:width]
        if blank_row(values):
            empty_run += 1
            if empty_run >= MAX_EMPTY_RUN:
                table.warnings.append(
                    _(
                        "第 %(row)s 行起连续 %(count)s 行为空，其后的内容未读取；"
                        "如果其后还有数据，请删除中间的空行后重新上传。"
                    )
                    % {"row": number - MAX_EMPTY_RUN + 1, "count": MAX_EMPTY_RUN}
                )
                return
        else:
            empty_run = 0
        yield number, values


# --- .xlsx ---------------------------------------------------------------------------------------


def _check_zip(handle: IO[bytes]) -> zipfile.ZipFile:
    """Refuse a zip bomb before any member is unpacked: declared sizes and ratios. (Python's zipfile
    never unpacks more than a member declares, and checks its CRC, so the declared sizes hold.)"""
    try:
        archive = zipfile.ZipFile(handle)
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise FileError(_("无法读取该 .xlsx 文件：压缩包已损坏。请用 Excel 打开后另存为 .xlsx 再上传。")) from None
    limit = max_unzipped_bytes()
    total = sum(member.file_size for member in members)
    worst = max(
        (member.file_size / max(member.compress_size, 1) for member in members if member.file_size > ZIP_RATIO_FLOOR),
        default=0,
    )
    if total > limit or worst > MAX_ZIP_RATIO:
        archive.close()
        raise FileError(
            _(
                "该 .xlsx 文件解压后约 %(size)s MB（上限 %(limit)s MB），"
                "最大压缩比 %(ratio)s 倍（上限 %(max_ratio)s 倍）：可能是损坏或恶意构造的文件，已拒绝。"
                "请用 Excel 打开后另存为新的 .xlsx，或分成几个文件再上传。"
            )
            % {
                "size": total // (1024 * 1024),
                "limit": limit // (1024 * 1024),
                "ratio": round(worst),
                "max_ratio": MAX_ZIP_RATIO,
            }
        )
    # Shared strings and styles are loaded whole by both readers (only sheets stream): a quarter of it.
    part = max(members, key=lambda member: member.file_size if not _is_sheet(member.filename) else 0, default=None)
    if part is not None and not _is_sheet(part.filename) and part.file_size > limit // 4:
        archive.close()
        raise FileError(
            _(
                "该 .xlsx 文件中的 %(part)s 解压后约 %(size)s MB（上限 %(limit)s MB）：可能是损坏或恶意构造的文件，"
                "已拒绝。请用 Excel 打开后另存为新的 .xlsx，或分成几个文件再上传。"
            )
            % {"part": part.filename, "size": part.file_size // (1024 * 1024), "limit": limit // 4 // (1024 * 1024)}
        )
    return archive


def _is_sheet(name: str) -> bool:
    return name.startswith("xl/worksheets/") and name.endswith(".xml")


def _xlsx_rows(
    handle: IO[bytes], stack: contextlib.ExitStack, *, number_formats: bool, width: int
) -> Iterator[list[Any]]:
    archive = stack.enter_context(_check_zip(handle))
    if CalamineWorkbook is not None and not number_formats:
        try:
            sheet_path = _first_sheet(archive)
            bounded = sheet_path is not None and _within(archive, sheet_path, width=width, rows=max_rows() + 1)
        except (zipfile.BadZipFile, OSError, ValueError, KeyError, EOFError):
            raise FileError(_("无法读取该 .xlsx 文件：压缩包已损坏。请用 Excel 打开后另存为 .xlsx 再上传。")) from None
        if bounded:
            handle.seek(0)
            return _calamine_rows(handle)
        # Cells (or a declared dimension) beyond the bounds: calamine would allocate the whole
        # rectangle, so the first sheet is streamed through openpyxl, cut to the bounds.
        return _openpyxl_rows(handle, stack, number_formats=False, width=width, first_sheet=True)
    return _openpyxl_rows(handle, stack, number_formats=number_formats, width=width, first_sheet=False)


SHEET_RE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?sheet\b[^>]*?\br:id=\"([^\"]+)\"")
TARGET_RE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?Relationship\b([^>]*)>")
# What Excel, WPS and openpyxl write: ``r`` first, no namespace prefix. Anything else is read by openpyxl.
CELL_COLUMN_RE = re.compile(rb'<c r="([A-Z]+)[0-9]+"')
CELL_ROW_RE = re.compile(rb'<c r="[A-Z]+([0-9]+)"')
ROW_RE = re.compile(rb'<row r="([0-9]+)"')
DIMENSION_RE = re.compile(rb'<dimension ref="([^"]*)"')


def _first_sheet(archive: zipfile.ZipFile) -> str | None:
    """The part name of the first sheet of the workbook (the one calamine reads)."""
    names = set(archive.namelist())
    if "xl/workbook.xml" not in names or "xl/_rels/workbook.xml.rels" not in names:
        return None
    workbook = archive.read("xl/workbook.xml")
    first = SHEET_RE.search(workbook)
    if first is None:
        return None
    for attributes in TARGET_RE.findall(archive.read("xl/_rels/workbook.xml.rels")):
        found = re.search(rb"\bId=\"([^\"]+)\"", attributes)
        target = re.search(rb"\bTarget=\"([^\"]+)\"", attributes)
        if found and target and found.group(1) == first.group(1):
            path = target.group(1).decode()
            path = path.lstrip("/") if path.startswith("/") else f"xl/{path}"
            return path if path in names else None
    return None


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + letter - 64
    return number


def _within(archive: zipfile.ZipFile, sheet_path: str, *, width: int, rows: int) -> bool:
    """Stream the sheet's XML once: every cell and row reference and the declared dimension lie inside
    ``width`` columns and ``rows`` rows, and every cell names its position. Also unpacks every other
    XML part to its end, so a part lying about its size fails its CRC here and never reaches calamine.
    Each chunk is scanned by a few regular expressions (C speed: about 0.2 s for 10 MB of XML)."""
    for member in archive.infolist():
        if member.filename != sheet_path and member.filename.endswith((".xml", ".rels")):
            with archive.open(member) as part:
                while part.read(CHUNK):
                    pass
    tail = b""
    with archive.open(sheet_path) as part:
        while True:
            chunk = part.read(CHUNK)
            text = tail + chunk
            # A tag cut by the chunk boundary is scanned again with the next chunk.
            cut = text.rfind(b"<") if chunk else len(text)
            scan, tail = (text[:cut], text[cut:]) if cut >= 0 else (text, b"")
            if len(tail) > CHUNK:
                return False
            dimension = DIMENSION_RE.search(scan)
            if dimension is not None:
                for ref in dimension.group(1).split(b":"):
                    letters, digits = (
                        ref.rstrip(b"0123456789"),
                        ref.lstrip(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"),
                    )
                    if (letters and _column_number(letters) > width) or (digits and int(digits) > rows):
                        return False
            if b":sheetData" in scan:
                return False  # a namespace prefix: not what the expressions expect
            columns = CELL_COLUMN_RE.findall(scan)
            if len(columns) != scan.count(b"<c ") + scan.count(b"<c>") + scan.count(b"<c/>"):
                return False  # a cell without its reference first: calamine would place it, not we
            if any(_column_number(letters) > width for letters in set(columns)):
                return False
            numbers = (*CELL_ROW_RE.findall(scan), *ROW_RE.findall(scan))
            if max(map(int, numbers), default=0) > rows:
                return False
            if not chunk:
                return True


def _calamine_rows(handle: IO[bytes]) -> Iterator[list[Any]]:
    try:
        workbook = CalamineWorkbook.from_filelike(handle)
        sheet = workbook.get_sheet_by_index(0)
        rows = sheet.iter_rows()
    except Exception as error:  # noqa: BLE001 - any reader failure means an unreadable file
        raise FileError(f"无法读取该 Excel 文件（{error}），请另存为 .xlsx 后重试。") from None
    return ([cell_value(value) for value in row] for row in rows)


def _streaming_workbook(handle: IO[bytes]) -> Any:
    """``openpyxl.load_workbook(read_only=True)`` without its dimension scan: openpyxl parses each
    sheet up to its ``<dimension>`` on opening — the whole sheet when there is none (7 s for a million
    empty rows). The declared dimension is ignored anyway: the bounds are the template's."""
    # Imported here: openpyxl is only the fallback path, and calamine reads most files alone.
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    class Sheet(ReadOnlyWorksheet):
        def _get_size(self) -> None:
            """No size: ``iter_rows`` is always given explicit bounds."""

    class Reader(ExcelReader):
        def read_worksheets(self) -> None:
            for sheet, rel in self.parser.find_sheets():
                if rel.target not in self.valid_files:
                    continue
                if "chartsheet" in rel.Type:
                    self.read_chartsheet(sheet, rel)
                    continue
                worksheet = Sheet(self.wb, sheet.name, rel.target, self.shared_strings)
                worksheet.sheet_state = sheet.state
                self.wb._sheets.append(worksheet)

    reader = Reader(handle, read_only=True, data_only=True)
    reader.read()
    return reader.wb


def _openpyxl_rows(
    handle: IO[bytes], stack: contextlib.ExitStack, *, number_formats: bool, width: int, first_sheet: bool
) -> Iterator[list[Any]]:
    handle.seek(0)
    try:
        workbook = _streaming_workbook(handle)
        sheet = workbook.worksheets[0] if first_sheet else workbook.active
    except Exception as error:  # noqa: BLE001
        raise FileError(f"无法读取该 Excel 文件（{error}），请另存为 .xlsx 后重试。") from None
    stack.callback(workbook.close)
    # The declared dimension is ignored: the bounds are the template's, read as a stream.
    bounds = {"min_row": 1, "max_row": max_rows() + 2, "min_col": 1, "max_col": width + 1}
    if not number_formats:
        return ([cell_value(value) for value in row] for row in sheet.iter_rows(values_only=True, **bounds))

    def with_formats() -> Iterator[list[Any]]:
        for row in sheet.iter_rows(**bounds):
            values = []
            for cell in row:
                value = getattr(cell, "value", None)
                if isinstance(value, int | float) and not isinstance(value, bool) and "%" in (cell.number_format or ""):
                    values.append(f"{Decimal(repr(value)) * 100:f}".rstrip("0").rstrip(".") + "%")
                else:
                    values.append(cell_value(value))
            yield values

    return with_formats()


# --- .xls ----------------------------------------------------------------------------------------


def _xls_rows(handle: IO[bytes], *, width: int) -> Iterator[list[Any]]:
    """BIFF sheets are bounded by the format itself (65,536 rows × 256 columns)."""
    try:
        book = xlrd.open_workbook(file_contents=handle.read())
        sheet = book.sheet_by_index(0)
    except Exception as error:  # noqa: BLE001
        raise FileError(f"无法读取该 .xls 文件（{error}），请另存为 .xlsx 后重试。") from None

    def rows() -> Iterator[list[Any]]:
        for index in range(sheet.nrows):
            values = []
            for cell in sheet.row_slice(index, 0, min(sheet.row_len(index), width + 1)):
                if cell.ctype == xlrd.XL_CELL_DATE:
                    values.append(cell_value(xlrd.xldate.xldate_as_datetime(cell.value, book.datemode)))
                elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                    values.append(cell_value(bool(cell.value)))
                elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
                    values.append("")
                else:
                    values.append(cell_value(cell.value))
            yield values

    return rows()


# --- .csv ----------------------------------------------------------------------------------------


def _csv_encoding(handle: IO[bytes]) -> str:
    """UTF-8 (with or without BOM), else GB18030: decided by decoding the whole file in chunks, so
    memory stays one chunk whatever the file's size. A NUL byte means it is no text file."""
    for encoding in ("utf-8-sig", "gb18030"):
        handle.seek(0)
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            while chunk := handle.read(CHUNK):
                if b"\x00" in chunk:
                    raise FileError("无法读取该文件：它不是 .xlsx、.xls 或 CSV 文件。")
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        handle.seek(0)
        return encoding
    raise FileError("无法识别 CSV 文件的编码：请保存为 UTF-8 或 GBK 编码的 CSV。")


def _csv_rows(handle: IO[bytes], stack: contextlib.ExitStack) -> Iterator[list[Any]]:
    text = io.TextIOWrapper(handle, encoding=_csv_encoding(handle), newline="")
    # Detached at the end: closing the wrapper would close a caller's file object.
    stack.callback(text.detach)

    def lines() -> Iterator[str]:
        number = 0
        while line := text.readline(MAX_LINE_CHARS + 1):
            number += 1
            if len(line) > MAX_LINE_CHARS:
                raise FileError(
                    _(
                        "CSV 文件第 %(row)s 行超过 %(limit)s 个字符：不是按模板填写的数据行。"
                        "请检查换行符，或用 Excel 另存为 CSV（UTF-8）后重新上传。"
                    )
                    % {"row": number, "limit": MAX_LINE_CHARS}
                )
            yield line

    reader = csv.reader(lines())

    def rows() -> Iterator[list[Any]]:
        try:
            yield from reader
        except csv.Error as error:
            reason = _("某个单元格过长") if "field larger" in str(error) else _("引号或分隔符格式不正确")
            raise FileError(
                _("CSV 文件第 %(row)s 行无法解析（%(reason)s）：请用 Excel 另存为 CSV（UTF-8）后重新上传。")
                % {"row": reader.line_num, "reason": reason}
            ) from None

    return rows()
