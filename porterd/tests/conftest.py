"""Shared set-up of porterd's tests.

The folder `porterd/` (the component) has the name of the package `porterd` it holds under
`src/`. pytest's importlib mode names a test module after its path from the root
(`porterd.tests.unit.test_x`) and imports the missing parents from their folders, which makes
the component folder a namespace package called `porterd` that hides the real one. This module
is the first one pytest imports below `porterd/tests/`: it puts the real package back before
any test module imports it.
"""

from __future__ import annotations

import importlib
import sys

if getattr(sys.modules.get("porterd"), "__file__", None) is None:
    sys.modules.pop("porterd", None)
    importlib.import_module("porterd")
