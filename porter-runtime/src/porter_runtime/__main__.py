"""`python -m porter_runtime`: the same command as the installed `porter-runtime`."""

from porter_runtime.launcher import launch

launch()
