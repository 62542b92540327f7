"""The RUN output `porter-image build -q` keeps to show when a RUN fails: its last bytes, from
a line's start."""

from __future__ import annotations

from porter_image.cli.build_output import KeptOutput


def test_kept_output_is_the_longest_tail_of_whole_lines_within_the_limit() -> None:
    kept = KeptOutput(limit=10)
    for line in ("aaaa", "bbbb", "cccc", "dd"):
        kept.append(line)
    assert kept.text() == "cccc\ndd\n"


def test_kept_output_within_the_limit_is_all_of_it() -> None:
    kept = KeptOutput(limit=10)
    for line in ("aaaa", "bbbb"):
        kept.append(line)
    assert kept.text() == "aaaa\nbbbb\n"


def test_kept_output_of_many_lines_is_the_last_ones() -> None:
    kept = KeptOutput(limit=100)
    for number in range(100_000):
        kept.append(str(number))
    text = kept.text()
    assert text.endswith("\n99999\n") and len(text) <= 100
    assert text.startswith(f"{99999 - len(text) // 6 + 1}\n")
