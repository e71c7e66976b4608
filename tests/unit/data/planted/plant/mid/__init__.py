"""Layer mid of the planted package."""
