"""kmor.gui."""
