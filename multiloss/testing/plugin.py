"""PLACEHOLDER: the pytest plugin (being written)."""
