"""Named and anonymous volumes (the local driver), as dockerd keeps them.

A volume is a folder `<data-root>/volumes/<name>/_data` (dockerd's layout) plus a row in the
state database. With driver options (`type`, `device`, `o`) it is a mount made there on first
use, as `mount -t TYPE -o O DEVICE` would (tmpfs, nfs, a bind of a host path).
"""

from porterd.volumes.service import ANONYMOUS_LABEL, Volume, VolumeService

__all__ = ["ANONYMOUS_LABEL", "Volume", "VolumeService"]
