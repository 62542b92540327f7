"""porter-runtime create: set a container up, its process waiting for start."""

from __future__ import annotations

from porter_runtime.cli.args import FLAG, INT, VALUE, Command, Option

TYPE_CHECKING = False
if TYPE_CHECKING:  # creation is imported when a container is created, not to list commands
    from porter_runtime.creation import Created

CREATE_OPTIONS = (
    Option("bundle", ("-b", "--bundle"), VALUE, ".", "the bundle directory", "dir"),
    Option("pid_file", ("--pid-file",), VALUE, None, "write the init's pid here", "file"),
    Option(
        "console_socket",
        ("--console-socket",),
        VALUE,
        None,
        "unix socket to receive the pty master (process.terminal)",
        "path",
    ),
    Option("no_pivot", ("--no-pivot",), FLAG, help="MS_MOVE and chroot instead of pivot_root"),
    Option(
        "no_new_keyring",
        ("--no-new-keyring",),
        FLAG,
        help="keep the caller's session keyring (default: a new one per container)",
    ),
    Option(
        "preserve_fds",
        ("--preserve-fds",),
        INT,
        0,
        "pass descriptors 3..3+N-1 on to the container",
        "N",
    ),
)

COMMAND = Command(
    "create", "Create a container from a bundle; `start` runs its process.", CREATE_OPTIONS
)


def run(ctx: object, opts: object) -> int:
    create_from_options(ctx, opts)
    return 0


def create_from_options(ctx: object, opts: object) -> Created:
    """Create the container named by the arguments with CREATE_OPTIONS (`create` and `run`)."""
    from porter_runtime.creation import create

    return create(
        ctx.root,
        opts.args[0],
        opts.bundle,
        pid_file=opts.pid_file,
        console_socket=opts.console_socket,
        no_pivot=opts.no_pivot,
        preserve_fds=opts.preserve_fds,
        no_new_keyring=opts.no_new_keyring,
    )
