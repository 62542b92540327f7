"""porter-runtime's tests: the probes of host features live in host_features (importable
from every test module)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
