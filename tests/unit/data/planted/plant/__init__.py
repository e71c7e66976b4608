"""A planted package for tests/unit/test_architecture.py: each module below holds one fault."""
