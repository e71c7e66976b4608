"""One module per kind: probes read, verbs act. Objects are returned as frozen dataclasses."""
