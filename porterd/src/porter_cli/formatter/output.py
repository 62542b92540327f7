"""Listings and inspect output in one place: docker's tables (tabwriter, three spaces between
columns), `--format json` (one JSON object per line), `--format TEMPLATE` and `table TEMPLATE`.

`porter ps` and `porter images` print through here without click (porter_cli.quick): the
output goes straight to sys.stdout, and json and re are imported only by the formats that
need them."""

from __future__ import annotations

import sys

from porter_cli.formatter.template import StrictRow, Template, actions

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any

PADDING = 3
MIN_WIDTH = 10  # docker's tabwriter: a column is at least 10 wide, padding included


def tabulate(lines: Iterable[str]) -> str:
    """Align tab-separated cells as Go's tabwriter does with padding 3 (the last cell of a
    line is not padded)."""
    rows = [line.split("\t") for line in lines]
    widths: dict[int, int] = {}
    for row in rows:
        for index, cell in enumerate(row[:-1]):
            widths[index] = max(widths.get(index, 0), len(cell))
    out = []
    for row in rows:
        cells = [cell.ljust(max(MIN_WIDTH, widths[i] + PADDING)) for i, cell in enumerate(row[:-1])]
        out.append(("".join(cells) + row[-1]).rstrip() if row else "")
    return "\n".join(out)


def expand_escapes(text: str) -> str:
    return text.replace("\\t", "\t").replace("\\n", "\n")


def header_row(template: str, headers: Mapping[str, str]) -> str:
    """The header of a `table` template: each `{{.Field}}` replaced by its column title;
    `{{if}}` and `{{range}}` blocks (a marker after a name, say) have no title."""
    plain = plain_header(template, headers)
    if plain is not None:
        return plain
    import re

    def title(match: re.Match[str]) -> str:
        field = match.group(1).split(".")[-1] if match.group(1) else ""
        return headers.get(field, field.upper())

    blocks = r"\{\{-?\s*(?:if|range)\b.*?\{\{-?\s*end\s*-?\}\}"
    template = re.sub(blocks, "", template, flags=re.S)
    return re.sub(r"\{\{-?\s*(?:\w+\s+)?\.([\w.]*)[^}]*\}\}", title, template)


def plain_header(template: str, headers: Mapping[str, str]) -> str | None:
    """header_row of a template whose actions are all plain fields (`{{.ID}}`, as every
    default table's), found without re; None for any other template."""
    parts = []
    position = 0
    for start, end, trim_left, inner, trim_right in actions(template):
        if trim_left or trim_right or not inner.startswith("."):
            return None
        if not all(char.isascii() and (char.isalnum() or char in "_.") for char in inner):
            return None
        field = inner.split(".")[-1]
        parts += [template[position:start], headers.get(field, field.upper())]
        position = end
    return "".join(parts) + template[position:]


def render_rows(
    rows: list[dict[str, Any]],
    format_: str | None,
    default: str,
    headers: Mapping[str, str],
) -> str:
    """A listing: the default table, `json`, a `table ...` template or a plain template."""
    spec = format_ if format_ else default
    if spec == "json":
        import json

        return "\n".join(json.dumps(row, separators=(",", ":")) for row in rows)
    spec = expand_escapes(spec)
    if spec.startswith("table"):
        body = spec[len("table") :].strip() or expand_escapes(default[len("table") :].strip())
        template = Template(body)
        lines = [header_row(body, headers)]
        lines += [template.render(StrictRow(row)) for row in rows]
        return tabulate("\n".join(lines).split("\n"))
    template = Template(spec)
    return "\n".join(template.render(StrictRow(row)) for row in rows)


def echo_rows(
    rows: list[dict[str, Any]],
    format_: str | None,
    default: str,
    headers: Mapping[str, str],
) -> None:
    text = render_rows(rows, format_, default, headers)
    if text and sys.stdout is not None:  # None: started with stdout closed, as click.echo
        sys.stdout.write(text + "\n")
        sys.stdout.flush()  # as click.echo does, before any error line on stderr


def render_inspect(objects: list[Any], format_: str | None) -> str:
    """inspect: an indented JSON array by default, `json` one object per line, else the
    template applied to each object."""
    import json

    if not format_:
        return json.dumps(objects, indent=4)
    if format_ == "json":
        return "\n".join(json.dumps(obj, separators=(",", ":")) for obj in objects)
    template = Template(expand_escapes(format_))
    return "\n".join(template.render(obj) for obj in objects)
