"""kmor.analysis."""
