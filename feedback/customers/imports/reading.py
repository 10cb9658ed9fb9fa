"""Turn the bytes of an uploaded CSV into (line number, row) pairs.

Files come from Nordic ERPs and from Excel: UTF-8 with or without BOM, UTF-16 ("Unicode
text"), or Windows-1252; `;`, `,` or tab delimited; CRLF or LF; quoted fields that hold the
delimiter or even a line break. Line numbers are the physical line a record starts on, with
the header as line 1, so they match what a person sees in an editor.

Most large files are plain: no quote character at all, so every line is one record and the
delimiter splits it exactly as the csv module would. `CsvFile.plain_blocks` reads those a
block of lines at a time as columns, with a few string operations on the whole block instead
of a Python step per row; anything else is read row by row.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import repeat

DELIMITERS = (";", ",", "\t")
DELIMITER_NAMES = {";": "semicolon", ",": "comma", "\t": "tab"}
# Characters per block of plain_blocks (about 100,000 rows of a transactions export): big
# enough that per-block work vanishes, small enough to keep memory flat and, on PostgreSQL,
# to stage one block while the next is checked.
BLOCK_CHARS = 4_000_000


class UnreadableFile(Exception):
    """The file as a whole cannot be read (wrong encoding, no header, no delimiter)."""


@dataclass(frozen=True)
class CsvFile:
    header: list[str]  # normalised: stripped, lower-case
    rows: Iterator[tuple[int, list[str]]]
    encoding: str
    delimiter: str
    text: str = ""  # the decoded file, header included

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        return self.rows

    def plain_blocks(self) -> Iterator[list[list[str]] | None] | None:
        """The rows under the header as columns (one list of strings per header column), a
        block of lines at a time, if the file is plain: no quote character, no NUL, no line
        break but LF or CRLF. None if it is not. A block is None if any of its lines lacks
        the header's number of fields or is empty (the row-by-row reading names those).

        Split this way a plain file reads exactly as `rows` reads it; `rows` is untouched, so a
        caller can still go through the file row by row afterwards."""
        text, delimiter = self.text, self.delimiter
        if not text or '"' in text or "\0" in text:
            return None
        crlf = "\r" in text
        if crlf and text.count("\r") != text.count("\r\n"):
            return None  # a lone CR ends a record for the csv module
        start = text.find("\n") + 1
        if start == 0:
            return iter(())  # the header alone
        end = len(text.rstrip("\r\n"))  # blank lines at the end are no rows
        return _blocks(text, start, end, delimiter, len(self.header), crlf)


def decode(data: bytes) -> tuple[str, str]:
    """The text of `data` and the name of the encoding it was read with."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="strict"), "UTF-8 (BOM)"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError:
            raise UnreadableFile("the file starts like UTF-16 but is not valid UTF-16") from None
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            f"the file is neither UTF-8 nor Windows-1252 (byte 0x{data[exc.start]:02x} "
            f"at position {exc.start}); save it from Excel as 'CSV UTF-8'"
        ) from None


def detect_delimiter(header_line: str) -> str:
    """The delimiter that splits the header line into the most fields (quotes respected)."""
    counts = {}
    for delimiter in DELIMITERS:
        try:
            fields = next(csv.reader([header_line], delimiter=delimiter), [])
        except csv.Error:  # a stray line break inside the header
            fields = []
        counts[delimiter] = len(fields)
    best = max(DELIMITERS, key=lambda d: counts[d])
    if counts[best] < 2:
        raise UnreadableFile(
            "could not find the delimiter in the header line: separate the column names "
            "with semicolons, commas or tabs"
        )
    return best


def read_csv(data: bytes) -> CsvFile:
    text, encoding = decode(data)
    if text.startswith("\ufeff"):  # a BOM that survived decoding (UTF-16)
        text = text[1:]
    if not text.strip():
        raise UnreadableFile("the file is empty")
    if "\n" not in text and "\r" in text:  # old Mac line ends: carriage returns only
        text = text.replace("\r", "\n")
    end = text.find("\n")
    header_line = (text if end < 0 else text[:end]).rstrip("\r")
    delimiter = detect_delimiter(header_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [name.strip().lower() for name in next(reader)]
    except csv.Error as exc:
        raise UnreadableFile(f"line 1: {exc}") from None
    return CsvFile(header, _numbered_rows(reader), encoding, delimiter, text)


def _blocks(
    text: str, start: int, end: int, delimiter: str, width: int, crlf: bool
) -> Iterator[list[list[str]] | None]:
    while start < end:
        stop = text.find("\n", min(start + BLOCK_CHARS, end))
        stop = end if stop < 0 or stop > end else stop
        block = text[start:stop]
        start = stop + 1
        if crlf:
            block = block.replace("\r\n", "\n").rstrip("\r")
        lines = block.split("\n")
        # Every line must hold width - 1 delimiters: then the fields of the block, split
        # as one run, fall into place row by row.
        if set(map(str.count, lines, repeat(delimiter))) != {width - 1} or (
            max(map(len, lines)) > csv.field_size_limit()  # the csv module refuses those
        ):
            yield None
            return
        fields = block.replace("\n", delimiter).split(delimiter)
        yield [fields[column::width] for column in range(width)]


def _numbered_rows(reader) -> Iterator[tuple[int, list[str]]]:
    """Rows with the line each starts on; wholly empty rows (trailing blank lines) are skipped."""
    start = reader.line_num + 1
    try:
        for row in reader:
            if row and (row[0].strip() or "".join(row).strip()):
                yield start, row
            start = reader.line_num + 1
    except csv.Error as exc:
        raise UnreadableFile(f"line {start}: {exc}") from None
