"""The porter-image command line: one module per subcommand."""
