"""The `attune` command: thin layers over the public API."""
