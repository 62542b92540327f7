"""Finding the mounts a container without a mount namespace made at its rootfs."""

from porter_runtime import hostmounts

MOUNTINFO = """\
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
50 27 0:40 / /b/rootfs rw - overlay overlay rw
61 50 254:0 /b/rootfs /b/rootfs rw - overlay overlay rw
62 61 0:41 / /b/rootfs/proc rw - proc proc rw
70 27 0:50 / /with\\040space rw - tmpfs tmpfs rw
"""


def write(tmp_path, text=MOUNTINFO):
    path = tmp_path / "mountinfo"
    path.write_text(text)
    return str(path)


def test_mounts_at_a_path_are_listed_oldest_first(tmp_path):
    assert hostmounts.mounts_at("/b/rootfs", write(tmp_path)) == [(50, 27), (61, 50)]


def test_topmost_is_the_mount_nothing_else_at_the_path_sits_on(tmp_path):
    assert hostmounts.topmost("/b/rootfs", write(tmp_path)) == 61


def test_escaped_mount_points_are_matched(tmp_path):
    assert hostmounts.topmost("/with space", write(tmp_path)) == 70


def test_a_path_without_mounts_has_no_topmost(tmp_path):
    assert hostmounts.topmost("/b/rootfs/proc/x", write(tmp_path)) is None
