"""The Dockerfile parser: directives, lines, forms and flags, as Docker's reference has them."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from porter_image.dockerfile import DockerfileSyntaxError, parse_dockerfile
from porter_image.dockerfile import instructions as ins


def only(text: str) -> ins.Instruction:
    (stage,) = parse_dockerfile("FROM scratch\n" + text).stages
    (instruction,) = stage.instructions
    return instruction


def test_instructions_carry_the_line_they_start_on() -> None:
    stage = parse_dockerfile("FROM scratch\n\n# note\nENV A=1\n").stages[0]
    assert stage.base.line == 1
    assert stage.instructions[0].line == 4


def test_keywords_are_case_insensitive() -> None:
    assert isinstance(only("workdir /app"), ins.Workdir)


def test_continuations_join_lines_and_skip_comment_lines_inside() -> None:
    run = only("RUN echo a \\\n# inside\n  && echo b\n")
    assert run == ins.Run(2, ins.ShellForm("echo a   && echo b"))


def test_escape_directive_makes_backtick_the_continuation() -> None:
    text = "# escape=`\nFROM scratch\nRUN dir c:\\ `\n  /w\n"
    (stage,) = parse_dockerfile(text).stages
    assert parse_dockerfile(text).directives.escape == "`"
    assert stage.instructions[0] == ins.Run(3, ins.ShellForm("dir c:\\   /w"))


def test_syntax_directive_is_read() -> None:
    text = "# syntax=docker/dockerfile:1.7\nFROM scratch\n"
    assert parse_dockerfile(text).directives.syntax == "docker/dockerfile:1.7"


@pytest.mark.parametrize(
    "syntax",
    [
        "docker/dockerfile:1",
        "docker/dockerfile:1.7-labs",
        "docker.io/docker/dockerfile:1@sha256:" + "a" * 64,
        "docker/dockerfile",
    ],
)
def test_docker_dockerfile_at_any_version_is_the_built_in_frontend(syntax: str) -> None:
    text = f"# syntax={syntax}\nFROM scratch\n"
    assert parse_dockerfile(text).directives.frontend_warning() is None


@pytest.mark.parametrize(
    "syntax", ["docker/dockerfile-upstream:master", "example.com:5000/my/frontend:2"]
)
def test_another_frontend_is_named_in_a_warning(syntax: str) -> None:
    warning = parse_dockerfile(f"# syntax={syntax}\nFROM scratch\n").directives.frontend_warning()
    assert warning is not None and warning.startswith(f"warning: # syntax={syntax}: ")


def test_a_directive_after_an_instruction_is_a_comment() -> None:
    text = "FROM scratch\n# escape=`\nRUN a \\\n b\n"
    assert parse_dockerfile(text).directives.escape == "\\"


def test_a_repeated_directive_is_an_error() -> None:
    with pytest.raises(DockerfileSyntaxError, match="only one escape"):
        parse_dockerfile("# escape=`\n# escape=\\\nFROM scratch\n")


def test_exec_form_is_a_json_array_and_anything_else_is_shell_form() -> None:
    assert only('CMD ["a", "b c"]') == ins.Cmd(2, ins.ExecForm(("a", "b c")))
    assert only("CMD [not json") == ins.Cmd(2, ins.ShellForm("[not json"))


def test_env_takes_pairs_with_quotes_kept_for_expansion() -> None:
    assert only('ENV A=1 B="x y"') == ins.Env(2, (("A", "1"), ("B", '"x y"')))


def test_env_legacy_form_takes_the_rest_of_the_line() -> None:
    assert only("ENV NAME hello  world") == ins.Env(2, (("NAME", "hello  world"),))


def test_arg_with_and_without_defaults() -> None:
    assert only("ARG A B=2") == ins.Arg(2, (("A", None), ("B", "2")))


def test_arg_before_the_first_from_is_global() -> None:
    parsed = parse_dockerfile("ARG V=1\nFROM img:$V\n")
    assert parsed.global_args == (ins.Arg(1, (("V", "1"),)),)
    assert parsed.stages[0].base.image == "img:$V"


def test_from_with_stage_name_and_platform() -> None:
    parsed = parse_dockerfile("FROM --platform=linux/amd64 busybox AS Build\n")
    assert parsed.stages[0].base == ins.From(1, "busybox", "build", "linux/amd64")


def test_stages_split_at_each_from() -> None:
    parsed = parse_dockerfile("FROM a AS one\nRUN x\nFROM b\nRUN y\nRUN z\n")
    assert [len(stage.instructions) for stage in parsed.stages] == [1, 2]
    assert [stage.name for stage in parsed.stages] == ["one", ""]


def test_copy_flags_sources_and_destination() -> None:
    copy = only("COPY --from=build --chown=app:app --chmod=0644 a b /dst/")
    assert copy == ins.Copy(2, ("a", "b"), "/dst/", from_="build", chown="app:app", chmod="0644")


def test_copy_json_form() -> None:
    copy = only('COPY ["a b", "/dst"]')
    assert isinstance(copy, ins.Copy)
    assert (copy.sources, copy.dest) == (("a b",), "/dst")


def test_add_is_a_copy_marked_add() -> None:
    add = only("ADD --checksum=sha256:00 http://127.0.0.1/x /x")
    assert isinstance(add, ins.Copy)
    assert (add.add, add.keyword, add.checksum) == (True, "ADD", "sha256:00")


def test_run_mounts_are_parsed_into_options() -> None:
    run = only("RUN --mount=type=cache,target=/c,id=pip --mount=type=bind,from=b,target=/s x")
    assert isinstance(run, ins.Run)
    assert [m.type for m in run.mounts] == ["cache", "bind"]
    assert run.mounts[0].get("id") == "pip"
    assert run.mounts[1].get("from") == "b"


def test_a_bare_required_mount_option_is_true_as_in_buildkit() -> None:
    run = only("RUN --mount=type=secret,id=tok,required x")
    assert isinstance(run, ins.Run)
    assert run.mounts[0].get("required") == "true"


def test_run_heredoc_body_is_read_verbatim() -> None:
    run = only("RUN <<EOF\n# not a comment\necho $HOME\nEOF\n")
    assert isinstance(run, ins.Run)
    assert run.heredocs[0].content == "# not a comment\necho $HOME\n"
    assert run.heredocs[0].expand


def test_quoted_heredoc_name_does_not_expand_and_dash_strips_tabs() -> None:
    copy = only("COPY <<-'END' /f\n\thello\n\tEND\n")
    assert isinstance(copy, ins.Copy)
    assert copy.heredocs[0].content == "hello\n"
    assert not copy.heredocs[0].expand
    assert copy.sources == ("<<-'END'",)


def test_two_heredocs_in_one_instruction() -> None:
    copy = only("COPY <<A <<B /d/\na\nA\nb\nB\n")
    assert isinstance(copy, ins.Copy)
    assert [h.content for h in copy.heredocs] == ["a\n", "b\n"]


def test_healthcheck_options_and_none() -> None:
    check = only("HEALTHCHECK --interval=5s --retries=3 CMD curl -f http://x/")
    assert check == ins.Healthcheck(
        2, ins.ShellForm("curl -f http://x/"), interval="5s", retries="3"
    )
    assert only("HEALTHCHECK NONE") == ins.Healthcheck(2, None)


def test_onbuild_keeps_its_expression_and_parses_the_trigger() -> None:
    onbuild = only("ONBUILD copy . /app")
    assert isinstance(onbuild, ins.Onbuild)
    assert onbuild.expression == "COPY . /app"
    assert isinstance(onbuild.trigger, ins.Copy)


def test_volume_in_json_and_word_forms() -> None:
    assert only('VOLUME ["/a", "/b"]') == ins.Volume(2, ("/a", "/b"))
    assert only("VOLUME /a /b") == ins.Volume(2, ("/a", "/b"))


def test_shell_needs_json_form() -> None:
    assert only('SHELL ["/bin/bash", "-c"]') == ins.Shell(2, ("/bin/bash", "-c"))
    with pytest.raises(DockerfileSyntaxError, match=r"Dockerfile:2: SHELL: .*JSON"):
        only("SHELL /bin/bash -c")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("FROM scratch\nFOO bar\n", "Dockerfile:2: FOO: unknown instruction"),
        ("RUN x\n", "Dockerfile:1: RUN: no FROM before it"),
        ("# only a comment\n", "no FROM instruction"),
        ("FROM scratch\nCOPY --bogus=1 a b\n", "Dockerfile:2: COPY: unknown flag: --bogus"),
        ("FROM scratch\nCOPY a\n", "Dockerfile:2: COPY: requires at least two"),
        ("FROM scratch\nRUN <<EOF\necho\n", "Dockerfile:2: RUN: heredoc EOF is not terminated"),
        ("FROM a AS x\nFROM b AS x\n", "duplicate stage name 'x'"),
        ("FROM a AS 1x\n", "invalid name for build stage"),
        ("FROM a b\n", "Dockerfile:1: FROM: takes an image"),
        ("FROM scratch\nENV A=1 B\n", "Dockerfile:2: ENV: syntax error"),
        ("FROM scratch\nONBUILD FROM x\n", "FROM isn't allowed as an ONBUILD trigger"),
        ("FROM scratch\nRUN --mount=type=nfs,target=/x a\n", "unsupported mount type"),
    ],
)
def test_bad_input_names_file_line_and_instruction(text: str, message: str) -> None:
    with pytest.raises(DockerfileSyntaxError, match=message):
        parse_dockerfile(text)


def test_copy_boolean_and_repeated_flags() -> None:
    copy = only("COPY --link --parents --exclude=*.a --exclude=*.b src /dst")
    assert isinstance(copy, ins.Copy)
    assert (copy.link, copy.parents, copy.excludes) == (True, True, ("*.a", "*.b"))


def test_a_boolean_flag_takes_true_or_false() -> None:
    copy = only("ADD --keep-git-dir=TRUE --parents=false --link=true src /dst")
    assert isinstance(copy, ins.Copy)
    assert (copy.keep_git_dir, copy.parents, copy.link) == (True, False, True)


def test_a_boolean_flag_with_another_value_is_a_syntax_error() -> None:
    with pytest.raises(DockerfileSyntaxError, match="boolean value for flag --parents, not: 1"):
        parse_dockerfile("FROM scratch\nCOPY --parents=1 a /b\n")


FRAGMENTS = [
    "FROM scratch", "FROM a AS b", "RUN x", "COPY a b", "ADD", "ENV a=b", "ENV a", "ARG x=1",
    "ONBUILD", "HEALTHCHECK", "CMD", "SHELL", "VOLUME", "EXPOSE", "LABEL", "USER", "FOO",
    "\\", "<<EOF", "<<-'E'", "EOF", "# escape=`", "# syntax=x", "`", "${a:-b}", "${", '"', "'",
    "[", "]", '["a"]', "--mount=type=cache", "--from=", "--chown", " ", "\t", "\n", "#",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=30).map("".join))
def test_any_text_parses_or_fails_with_a_syntax_error(text: str) -> None:
    with contextlib.suppress(DockerfileSyntaxError):
        parse_dockerfile(text)


def test_a_heredoc_marker_inside_quotes_is_text() -> None:
    run = only('RUN echo "<<EOF" > /f\n')
    assert isinstance(run, ins.Run)
    assert run.heredocs == ()
