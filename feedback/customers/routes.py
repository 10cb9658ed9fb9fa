"""Pages (filled in by the web UI work)."""
