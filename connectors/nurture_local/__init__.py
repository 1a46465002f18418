"""Local connector placeholder."""
