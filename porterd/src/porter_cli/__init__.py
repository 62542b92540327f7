"""porter: the everyday CLI, speaking the Docker Engine API to porterd (or dockerd).

`porter_cli.client` is the Engine API client library; the commands live one module per
command under a folder per noun (`container/run.py`, `image/pull.py`, ...), output formats in
`porter_cli.formatter`, and `main` maps errors to one line and docker's exit codes.
"""
