"""kmor.drivers."""
