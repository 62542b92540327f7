"""The two ends of a copy: where an image is read from and where it is written to.

Each transport (registry, layout, archives) has a source and a destination with the same
small interface (`ImageSource`, `ImageDestination` in `base`), so that `copy_image` never asks
which kind it is talking to.
"""
