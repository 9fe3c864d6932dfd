"""The rows of a DMS CSV file as fields (the scanner of etl/dms/csv.ts DmsCsvReader), for any CsvRowDelimiter.

A row ends at LF (a CR before it belongs to the line end: "\\n" and "\\r\\n" read the same) or at the one other ASCII
character the format names, LF and CR then being data. Quoted fields (Rfc4180) hold delimiters, row delimiters and
doubled quotes; an empty unquoted field is told from a quoted "" by the `quoted` flag. "Line" counts row delimiters,
inside quoted fields too, as the TypeScript reader counts them. Errors: a blank line, an unterminated quote, text
after a closing quote, a bare quote in an unquoted field, a CR not followed by LF (LF rows only).
"""

from __future__ import annotations

import json
import re

from .errors import InputError

_QUOTED = re.compile(r'"((?:[^"]|"")*)"', re.S)


def row_end(fmt: dict) -> str:
    """The character that ends a row: LF for "\\n" and "\\r\\n" (CRLF also read), else the delimiter itself."""
    r = fmt.get("csvRowDelimiter", "\n")
    return "\n" if r in ("\n", "\r\n") else r


def csv_rows(text: str, file: str, delim: str, rd: str, rfc4180: bool):
    """Yields (fields, line, field_lines) per row: fields as [(value, quoted)], the row's first line, and each
    field's first line (None when the row is on one line). `text` is the decoded file without its BOM."""
    crlf = rd == "\n"
    n = len(text)
    pos = 0
    line = 1
    ends = (delim, "\n", "\r") if crlf else (delim, rd)
    unquoted_stop = re.compile("[" + re.escape(delim) + '"' + ("\r\n" if crlf else re.escape(rd)) + "]")

    def fail(code, what, ln, col):
        raise InputError(code, f"dms csv: {what} in {file} line {ln} column {col}")

    def bad_cr(ln, col):
        fail("bad_line_end", "carriage return not followed by a line feed (expected CRLF or LF line ends)", ln, col)

    def read_row(pos, line):
        """The general scanner for one row (quoted fields): fields, field lines, new pos, new line."""
        fields = []
        lines = []
        while True:
            if pos < n and text[pos] == '"':
                m = _QUOTED.match(text, pos)
                if m is None:
                    fail("unterminated_quote", "unterminated quoted field (a closing \" is missing before the end "
                         "of the file)", line, len(fields) + 1)
                v = m.group(1)
                fields.append((v.replace('""', '"'), True))
                lines.append(line)
                line += v.count(rd)
                pos = m.end()
                if pos < n and text[pos] not in ends:
                    fail("bad_quote", f"text after a closing quote (expected {json.dumps(delim)} or end of line)",
                         lines[-1], len(fields))
            else:
                m = unquoted_stop.search(text, pos)
                e = n if m is None else m.start()
                if e < n and text[e] == '"':
                    fail("bad_quote", "bare \" inside an unquoted field (quote the whole field and double the quote)",
                         line, len(fields) + 1)
                fields.append((text[pos:e], False))
                lines.append(line)
                pos = e
            if pos >= n:
                return fields, lines, pos, line
            c = text[pos]
            if c == delim:
                pos += 1
                continue
            if c == rd:
                return fields, lines, pos + 1, line + 1
            if pos + 1 < n and text[pos + 1] == "\n":
                return fields, lines, pos + 2, line + 1
            bad_cr(line, len(fields))

    while pos < n:
        if text[pos] == rd or (crlf and text.startswith("\r\n", pos)):
            fail("blank_line", "blank line (expected a row of fields)", line, 1)
        # Fast path: a row with no quote (or Rfc4180=false, where a quote is a plain character) is split on the delimiter.
        nl = text.find(rd, pos)
        end = n if nl < 0 else nl
        seg = text[pos:end]
        if not rfc4180 or '"' not in seg:
            if crlf:
                if seg.endswith("\r") and nl >= 0:
                    seg = seg[:-1]
                if "\r" in seg:
                    bad_cr(line, seg[: seg.index("\r")].count(delim) + 1)
            yield [(v, False) for v in seg.split(delim)], line, None
            pos = end + 1 if nl >= 0 else n
            line += 1
        else:
            row_line = line
            fields, lines, pos, line = read_row(pos, line)
            yield fields, row_line, lines
