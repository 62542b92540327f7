"""`porter ps` stays fast to start: it imports the code of ps and of the client, and none of
the heavy or unrelated modules other commands need."""

from __future__ import annotations

import json
import subprocess
import sys

from porter_fake_engine import FakeEngine

PROBE = """
import json, sys
from porter_cli.main import main
sys.argv = ["porter", "-H", sys.argv[1], "ps"]
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""

NOT_FOR_PS = (
    "requests", "jsonschema", "cryptography", "tarfile", "termios", "tempfile",
    "porter_cli.container.run", "porter_cli.image.pull", "porter_cli.terminal",
    "porter_cli.certificates", "porter_image", "porterd",
    "http.client", "email", "ssl", "concurrent.futures",
)  # fmt: skip


def test_ps_imports_only_what_it_uses(engine: FakeEngine) -> None:
    engine.json("GET", "/containers/json", [])
    result = subprocess.run(
        [sys.executable, "-c", PROBE, engine.host],  # type: ignore[attr-defined]
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    modules = json.loads(result.stderr.strip().splitlines()[-1])
    loaded = [
        name for name in NOT_FOR_PS if any(m == name or m.startswith(name + ".") for m in modules)
    ]
    assert loaded == []
    assert "porter_cli.container.ls" in modules
