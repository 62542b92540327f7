#!/usr/bin/env bash
# Porter's main job for now: set the machine up, build the busybox demo base image with
# porter-image, inspect, validate and unpack it, then run the bundle with porter-runtime,
# saying what happens at each step.
#   bash scripts/demo.sh        (as root on Debian 12; everything lands in ./demo,
#                                or in $DEMO_DIR when that is set)
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n==> %s\n' "$*"; }

say "setting up (apt packages, .venv)"
bash scripts/setup.sh
porter_image=.venv/bin/porter-image
demo="${DEMO_DIR:-demo}"

rm -rf "$demo"
mkdir -p "$demo"

say "building the demo base image into $demo/layout:busybox from Debian's busybox-static"
digest="$(SOURCE_DATE_EPOCH=0 bash scripts/make-busybox-image.sh "$demo/layout:busybox")"
echo "manifest $digest"

say "porter-image list $demo/layout"
"$porter_image" list "$demo/layout"

say "porter-image inspect $demo/layout:busybox"
"$porter_image" inspect "$demo/layout:busybox"

say "porter-image validate $demo/layout:busybox (schemas and digests)"
"$porter_image" validate "$demo/layout:busybox"

say "porter-image fsck $demo/layout (every blob, every reference)"
"$porter_image" fsck "$demo/layout"

say "porter-image unpack $demo/layout:busybox $demo/bundle"
"$porter_image" unpack "$demo/layout:busybox" "$demo/bundle"
echo "rootfs: $demo/bundle/rootfs ($(find "$demo/bundle/rootfs" | wc -l) entries)"
ls -l "$demo/bundle/rootfs"

if [ "$(id -u)" = 0 ]; then
    say "running the bundle with porter-runtime (no terminal, a one-off command)"
    .venv/bin/python - "$demo/bundle/config.json" <<'PY'
import json, sys
path = sys.argv[1]
config = json.load(open(path))
config["process"]["terminal"] = False
config["process"]["args"] = ["sh", "-c", 'echo "hello from busybox, pid $$, host $(hostname)"']
config["hostname"] = "porter-demo"
json.dump(config, open(path, "w"), indent=2)
PY
    .venv/bin/porter-runtime --root "$demo/runtime" run --bundle "$demo/bundle" "porter-demo-$$"
fi

say "done: the image is in $demo/layout (tag busybox); skopeo and umoci can read it too:"
echo "    skopeo inspect oci:$demo/layout:busybox"
echo "    umoci unpack --image $demo/layout:busybox $demo/umoci-bundle"
