"""One module per subcommand: its options (`COMMAND`) and `run(ctx, opts)`."""
