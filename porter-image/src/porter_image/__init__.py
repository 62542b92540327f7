"""porter-image: OCI image layouts, layers, image configs, registry client and builder."""
