"""The side-by-side table printed at the end of a run: one row per check, one column per runtime."""

from __future__ import annotations

from collections import Counter

import pytest

ORDER = ("pass", "FAIL", "xfail", "XPASS", "skip", "error")


class SideBySide:
    """Collects per-(check, runtime) outcomes from pytest's reports."""

    def __init__(self, runtimes: list[str]) -> None:
        self.runtimes = runtimes
        self.where: dict[str, tuple[str, str]] = {}
        self.outcomes: dict[tuple[str, str], str] = {}

    def register(self, nodeid: str, check: str, runtime: str) -> None:
        self.where[nodeid] = (check, runtime)

    def record(self, report: pytest.TestReport) -> None:
        key = self.where.get(report.nodeid)
        if key is None:
            return
        outcome = _outcome(report)
        relevant = outcome is not None and (report.when == "call" or outcome != "pass")
        if relevant and self.outcomes.get(key) in (None, "pass"):
            self.outcomes[key] = outcome

    def render(self) -> list[str]:
        if not self.outcomes:
            return []
        checks = list(dict.fromkeys(check for check, _ in self.where.values()))
        width = max(len(check) for check in checks)
        lines = [f"{'check':<{width}}  " + "  ".join(f"{name:>15}" for name in self.runtimes)]
        for check in checks:
            cells = [self.outcomes.get((check, name), "-") for name in self.runtimes]
            lines.append(f"{check:<{width}}  " + "  ".join(f"{cell:>15}" for cell in cells))
        for name in self.runtimes:
            counts = Counter(
                outcome for (_, runtime), outcome in self.outcomes.items() if runtime == name
            )
            summary = ", ".join(f"{counts[kind]} {kind}" for kind in ORDER if counts[kind])
            lines.append(f"{name}: {summary or 'nothing ran'}")
        return lines


def _outcome(report: pytest.TestReport) -> str | None:
    if hasattr(report, "wasxfail"):
        return "xfail" if report.skipped else "XPASS"
    if report.skipped:
        return "skip"
    if report.failed and "XPASS(strict)" in str(report.longrepr):
        return "XPASS"
    if report.failed:
        return "FAIL" if report.when == "call" else "error"
    return "pass" if report.when == "call" else None
