"""seccomp for containers: compile a profile in the runtime, install it in the init.

    program = compile_seccomp(config["linux"]["seccomp"])   # before fork; raises SeccompError
    ...                                                     # in the container init:
    notify_fd = install_seccomp(program)                    # right before execve

libseccomp (through ctypes) is loaded only by compile_seccomp.
"""

from porter_runtime.seccomp.compile import SeccompProgram, compile_seccomp
from porter_runtime.seccomp.errors import SeccompError
from porter_runtime.seccomp.install import install_seccomp, send_seccomp_fd

__all__ = [
    "SeccompError",
    "SeccompProgram",
    "compile_seccomp",
    "install_seccomp",
    "send_seccomp_fd",
]
