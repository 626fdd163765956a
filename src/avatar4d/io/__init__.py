"""Low-level file helpers that every layer may use."""
