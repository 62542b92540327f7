"""porter's output: docker's tables, --format json, the Go-template subset, human units."""

from __future__ import annotations

import pytest
from porter_cli.formatter import containers, images, output
from porter_cli.formatter.output import render_inspect, render_rows, tabulate
from porter_cli.formatter.template import Template, TemplateError
from porter_cli.formatter.units import human_duration, human_size, parse_size

HEADERS = {"ID": "CONTAINER ID", "Names": "NAMES"}
ROWS = [{"ID": "abc", "Names": "web"}, {"ID": "def0123456789", "Names": "db"}]


def test_table_columns_are_padded_by_three_and_at_least_ten_wide() -> None:
    assert tabulate(["A\tBB\tC", "longer-cell-x\tB\tC"]) == (
        "A               BB        C\nlonger-cell-x   B         C"
    )


def test_table_templates_get_a_header_of_column_titles() -> None:
    text = render_rows(ROWS, "table {{.ID}}\\t{{.Names}}", "", HEADERS)
    assert text.splitlines() == [
        "CONTAINER ID    NAMES",
        "abc             web",
        "def0123456789   db",
    ]


def test_a_plain_template_prints_one_line_per_row_without_header() -> None:
    assert render_rows(ROWS, "{{.Names}}={{.ID}}", "", HEADERS) == "web=abc\ndb=def0123456789"


def test_format_json_prints_one_object_per_line() -> None:
    assert render_rows(ROWS[:1], "json", "", HEADERS) == '{"ID":"abc","Names":"web"}'


def test_the_default_table_is_used_without_format() -> None:
    assert render_rows(ROWS[:1], None, "table {{.Names}}", HEADERS) == "NAMES\nweb"


def test_an_unknown_field_of_a_listing_is_an_error() -> None:
    with pytest.raises(TemplateError, match="can't evaluate field Nope"):
        render_rows(ROWS, "{{.Nope}}", "", HEADERS)


def test_an_unknown_field_of_an_inspected_object_prints_no_value() -> None:
    assert render_inspect([{"State": {}}], "{{.State.Missing}}") == "<no value>"


def test_inspect_without_format_is_an_indented_json_array() -> None:
    assert render_inspect([{"Id": "x"}], None) == '[\n    {\n        "Id": "x"\n    }\n]'


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{.State.Status}}", "running"),
        ("{{json .Config.Cmd}}", '["sh","-c"]'),
        ("{{.Name | upper}}", "/WEB"),
        ('{{index .Config.Labels "app"}}', "shop"),
        ('{{join .Config.Cmd " "}}', "sh -c"),
        ("{{len .Config.Cmd}}", "2"),
        ("{{range .Mounts}}{{.Destination}};{{end}}", "/data;/logs;"),
        ("{{if .State.Running}}up{{else}}down{{end}}", "up"),
        ("{{if .State.Paused}}paused{{else}}not paused{{end}}", "not paused"),
        ("{{.Config.Labels}}", "map[app:shop tier:web]"),
        ("a {{- .State.Status -}} b", "arunningb"),
        ("{{json .}}", '{"Name":"/web"}'),
    ],
)
def test_go_template_subset(template: str, expected: str) -> None:
    data = {
        "Name": "/web",
        "State": {"Status": "running", "Running": True, "Paused": False},
        "Config": {"Cmd": ["sh", "-c"], "Labels": {"tier": "web", "app": "shop"}},
        "Mounts": [{"Destination": "/data"}, {"Destination": "/logs"}],
    }
    if template == "{{json .}}":
        data = {"Name": "/web"}
    assert Template(template).render(data) == expected


@pytest.mark.parametrize("template", ["{{.A", "{{if .A}}x", "{{end}}", "{{nosuch .A}}", "{{else}}"])
def test_malformed_templates_are_one_clear_error(template: str) -> None:
    with pytest.raises(TemplateError, match="template error"):
        Template(template).render({"A": 1})


@pytest.mark.parametrize(
    ("size", "text"), [(0, "0B"), (999, "999B"), (1234567, "1.235MB"), (4_260, "4.26kB")]
)
def test_sizes_print_in_decimal_units_with_four_digits(size: int, text: str) -> None:
    assert human_size(size) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.5, "Less than a second"),
        (1, "1 second"),
        (42, "42 seconds"),
        (61, "About a minute"),
        (300, "5 minutes"),
        (3600, "About an hour"),
        (7200, "2 hours"),
        (3 * 86400, "3 days"),
    ],
)
def test_durations_read_as_dockers(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text


@pytest.mark.parametrize(
    ("text", "size"),
    [("1024", 1024), ("512m", 512 << 20), ("1g", 1 << 30), ("1.5k", 1536), ("2GB", 2 << 30)],
)
def test_sizes_given_as_flags_are_binary_multiples(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "12x", "-1m", "m"])
def test_bad_sizes_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="invalid size"):
        parse_size(text)


def test_conditional_parts_of_a_table_template_have_no_header() -> None:
    rows = [{"Name": "a", "Current": True}, {"Name": "b", "Current": False}]
    text = render_rows(
        rows, "table {{.Name}}{{if .Current}} *{{end}}\\t{{.Name}}", "", {"Name": "NAME"}
    )
    assert text.splitlines() == ["NAME      NAME", "a *       a", "b         b"]


@pytest.mark.parametrize(
    "template",
    [
        containers.DEFAULT + "\t{{.Size}}",
        images.DEFAULT.replace("\t{{.ID}}", "\t{{.Digest}}\t{{.ID}}"),
        "table {{.Labels.tier}}\t{{.Unknown}}\t{{.}} left {{",
    ],
    ids=["ps", "images", "odd fields"],
)
def test_a_header_of_plain_fields_read_without_re_is_the_one_re_reads(
    template: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = {**containers.HEADERS, **images.HEADERS}
    quick = output.plain_header(template, headers)
    monkeypatch.setattr(output, "plain_header", lambda template, headers: None)
    assert quick == output.header_row(template, headers)
