"""kmor.config."""
