"""Layer base of the planted package."""
