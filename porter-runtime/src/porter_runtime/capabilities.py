"""Linux capabilities by name, and applying the five sets of process.capabilities."""

from __future__ import annotations

from porter_runtime import syscalls as sc

NAMES = (
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
)
NUMBERS = {name: number for number, name in enumerate(NAMES)}
SETS = ("bounding", "effective", "inheritable", "permitted", "ambient")


def last_cap() -> int:
    """The highest capability this kernel knows."""
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            return int(f.read())
    except OSError:
        return len(NAMES) - 1


def number_of(name: str) -> int | None:
    """The kernel's number of a capability name ("CAP_KILL", also "kill"), None if unknown."""
    upper = name.upper()
    return NUMBERS.get(upper if upper.startswith("CAP_") else "CAP_" + upper)


def check_names(caps: dict | None, what: str = "process.capabilities") -> None:
    """Refuse a name that is no capability; warn about one the running kernel lacks.

    A name that is no capability at all is a mistake in the config: runtime-spec 1.0 says
    it MUST cause an error and the runtime-tools suite checks it (runc accepts it
    silently), so it is refused before anything is created. A real capability that this
    kernel does not have yet "cannot be granted": since 1.1 the spec asks for a warning
    and says a runtime SHOULD NOT fail, so that configs written for newer kernels run
    here; it is left out of the masks (see `to_mask`)."""
    from porter_runtime.errors import ConfigError

    limit = bounding = -1  # read once, when the first name needs them
    for kind in SETS:
        for name in (caps or {}).get(kind) or []:
            number = number_of(name)
            if number is None:
                raise ConfigError(f"{what}.{kind}", f"unknown capability {name!r}")
            if limit < 0:
                limit, bounding = last_cap(), own_bounding_set()
            if number > limit:
                from porter_runtime import log

                log.warning(
                    f"{what}.{kind}: {name} is not known to this kernel (its last "
                    f"capability is {limit}); the container runs without it"
                )
            elif not bounding >> number & 1:
                from porter_runtime import log

                log.warning(
                    f"{what}.{kind}: {name} is outside the runtime's own bounding set, "
                    "so it cannot be granted; the container runs without it"
                )


def to_mask(names: list[str] | None, limit: int) -> int:
    """A bit mask of the named capabilities; names `check_names` refused or warned about
    (unknown, or beyond this kernel's last capability) are skipped."""
    mask = 0
    for name in names or []:
        number = number_of(name)
        if number is not None and number <= limit:
            mask |= 1 << number
    return mask


def _own_set(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1], 16)
    return 0


def has_capability(name: str) -> bool:
    """Whether the calling process holds `name` in its effective set."""
    return bool(_own_set("CapEff:") >> NUMBERS[name] & 1)


def own_bounding_set() -> int:
    """The runtime's own bounding set: no process it starts can hold more (a host whose root
    lacks a capability, as in some CI sandboxes, cannot grant it to a container)."""
    return _own_set("CapBnd:")


class CapabilityPlan:
    """The five masks to apply, computed once from the config."""

    __slots__ = ("ambient", "bounding", "effective", "inheritable", "limit", "permitted")

    def __init__(self, caps: dict | None) -> None:
        self.limit = last_cap()
        caps = caps or {}
        grantable = own_bounding_set()  # `check_names` warned about the rest
        self.bounding = to_mask(caps.get("bounding"), self.limit) & grantable
        self.effective = to_mask(caps.get("effective"), self.limit) & grantable
        self.inheritable = to_mask(caps.get("inheritable"), self.limit) & grantable
        self.permitted = to_mask(caps.get("permitted"), self.limit) & grantable
        self.ambient = to_mask(caps.get("ambient"), self.limit) & grantable

    def drop_bounding(self, calls: object) -> None:
        """Drop from the bounding set everything not asked for (needs CAP_SETPCAP: do first)."""
        for number in range(self.limit + 1):
            if not self.bounding >> number & 1:
                calls.prctl(sc.PR_CAPBSET_DROP, number)

    def apply(self, calls: object) -> None:
        """Set effective/permitted/inheritable, then raise the ambient ones.

        The kernel only lets a capability be ambient if it is permitted and inheritable;
        like runc, ambient entries outside those sets are skipped rather than fatal."""
        calls.capset(self.effective, self.permitted, self.inheritable)
        raisable = self.ambient & self.permitted & self.inheritable
        for number in range(self.limit + 1):
            if raisable >> number & 1:
                calls.prctl(sc.PR_CAP_AMBIENT, sc.PR_CAP_AMBIENT_RAISE, number)
