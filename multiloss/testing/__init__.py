"""Public testing helpers: independent references and per-backend conversions."""
