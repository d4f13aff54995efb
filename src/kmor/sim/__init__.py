"""kmor.sim."""
