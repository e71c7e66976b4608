"""Layer top of the planted package."""
