"""kmor.storage."""
