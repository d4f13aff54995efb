"""kmor.sequences."""
