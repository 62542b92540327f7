"""`porter ps`, `porter images` and `porter version` without click: the commands people run
most (and check the daemon with), parsed here from a table of their options so that they
start in the time the interpreter takes, not in the time click's import takes (more than a
whole `docker ps`).

Only a command line this parser fully understands runs here: the global options (-H,
--context, --config, the TLS ones), then `ps` / `container ls|ps|list`, `images` /
`image ls|list` or `version` / `system version` with their own options, spelled as click
accepts them (`-aq`, `-n 5`, `-n5`, `--last=5`, `--filter a=b` repeated). Anything else
(--help, --version, a bad value, an option it does not know, a stray argument) goes to
click, which runs or refuses it with click's own words; so this parser never has to say why
a command line is wrong.
porterd/tests/unit/cli/test_quick.py holds these tables to the click commands' options and
the parsed values to click's."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from porter_cli.client.api import Client

# option -> (parameter, kind): "flag" (no value), "value", "int", "multiple" (repeatable value)
Table = dict[str, tuple[str, str]]

GLOBAL_OPTIONS: Table = {
    "-H": ("host", "value"),
    "--host": ("host", "value"),
    "-c": ("context", "value"),
    "--context": ("context", "value"),
    "--config": ("config", "value"),
    "--tls": ("tls", "flag"),
    "--tlsverify": ("tlsverify", "flag"),
    "--tlscacert": ("tlscacert", "value"),
    "--tlscert": ("tlscert", "value"),
    "--tlskey": ("tlskey", "value"),
}
_SHARED: Table = {
    "-a": ("all_", "flag"),
    "--all": ("all_", "flag"),
    "--no-trunc": ("no_trunc", "flag"),
    "-f": ("filters", "multiple"),
    "--filter": ("filters", "multiple"),
    "--format": ("format_", "value"),
    "-q": ("quiet", "flag"),
    "--quiet": ("quiet", "flag"),
}
PS_OPTIONS: Table = {
    **_SHARED,
    "-n": ("last", "int"),
    "--last": ("last", "int"),
    "-l": ("latest", "flag"),
    "--latest": ("latest", "flag"),
    "-s": ("size", "flag"),
    "--size": ("size", "flag"),
}
IMAGES_OPTIONS: Table = {**_SHARED, "--digests": ("digests", "flag")}
VERSION_OPTIONS: Table = {"--format": ("format_", "value")}

# command words -> (its options, how many arguments it takes, what runs it)
COMMANDS: dict[tuple[str, ...], tuple[Table, int, str]] = {
    ("ps",): (PS_OPTIONS, 0, "containers"),
    **{("container", verb): (PS_OPTIONS, 0, "containers") for verb in ("ls", "ps", "list")},
    ("images",): (IMAGES_OPTIONS, 1, "images"),
    **{("image", verb): (IMAGES_OPTIONS, 1, "images") for verb in ("ls", "list")},
    ("version",): (VERSION_OPTIONS, 0, "version"),
    ("system", "version"): (VERSION_OPTIONS, 0, "version"),
}
ARGUMENT_NAMES = {"images": ("reference",), "containers": (), "version": ()}


class NotMine(Exception):
    """A command line for click to run or refuse."""


def parse_options(
    args: list[str], table: Table, interspersed: bool
) -> tuple[dict[str, Any], list[str]]:
    """The options of `table` in `args`, and the other arguments: all of them when
    `interspersed` (a command's), else those from the first one on (a group's)."""
    values: dict[str, Any] = {}
    rest: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        index += 1
        if arg == "--" or arg == "-" or not arg.startswith("-"):
            if arg == "--":
                rest += args[index:]
                break
            if not interspersed:
                rest += args[index - 1 :]
                break
            rest.append(arg)
            continue
        if arg.startswith("--"):
            name, equals, given = arg.partition("=")
            known = table.get(name)
            if known is None or (equals and known[1] == "flag"):
                raise NotMine
            if known[1] == "flag":
                values[known[0]] = True
                continue
            if not equals:
                if index == len(args):
                    raise NotMine
                given, index = args[index], index + 1
                if given.startswith("-"):
                    raise NotMine  # a missing value, or an odd one: click decides
            _store(values, known, given)
            continue
        if "=" in arg:
            raise NotMine
        for position in range(1, len(arg)):  # -aq, -n5, -aqn 5
            known = table.get("-" + arg[position])
            if known is None:
                raise NotMine
            if known[1] == "flag":
                values[known[0]] = True
                continue
            given = arg[position + 1 :]
            if not given:
                if index == len(args) or args[index].startswith("-"):
                    raise NotMine
                given, index = args[index], index + 1
            _store(values, known, given)
            break
    return values, rest


def _store(values: dict[str, Any], known: tuple[str, str], given: str) -> None:
    name, kind = known
    if kind == "multiple":
        values.setdefault(name, []).append(given)
    elif kind == "int":
        try:
            values[name] = int(given)
        except ValueError:
            raise NotMine from None
    else:
        values[name] = given


def filters_map(given: list[str] | tuple[str, ...]) -> dict[str, list[str]] | None:
    """`-f key=value` options as the API's filters map ({key: [values]}, keys lower-cased);
    ValueError naming the first one without `key=`."""
    result: dict[str, list[str]] = {}
    for item in given:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(item)
        result.setdefault(key.strip().lower(), []).append(value)
    return result or None


def parse(argv: list[str]) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """(the global options, what runs it, its keyword arguments) of a command line this
    module runs; NotMine for any other."""
    global_options, rest = parse_options(argv, GLOBAL_OPTIONS, interspersed=False)
    nouns = (["container"], ["image"], ["system"])
    words = tuple(rest[:2]) if rest[:1] in nouns else tuple(rest[:1])
    if words not in COMMANDS:
        raise NotMine
    table, most, runner = COMMANDS[words]
    options, arguments = parse_options(rest[len(words) :], table, interspersed=True)
    if len(arguments) > most:
        raise NotMine
    options.update(zip(ARGUMENT_NAMES[runner], arguments, strict=False))
    if "filters" in options:
        try:
            options["filters"] = filters_map(options["filters"])
        except ValueError:
            raise NotMine from None  # click's filters_param says what is wrong
    return global_options, runner, options


def run_quick(argv: list[str]) -> int | None:
    """Run the command line if it is one this module runs (its exit code), else None;
    errors are the caller's to report, as click's commands' are."""
    try:
        global_options, runner, options = parse(argv)
    except NotMine:
        return None
    from porter_cli.session import Options, Session

    client: Client = Session(Options(**global_options)).client
    if runner == "containers":
        from porter_cli.formatter.containers import list_containers

        list_containers(client, **options)
    elif runner == "images":
        from porter_cli.formatter.images import list_images

        list_images(client, **options)
    else:
        from porter_cli.version_info import show_version

        show_version(client, **options)
    return 0
