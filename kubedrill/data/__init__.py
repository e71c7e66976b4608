"""Data: the oracle (sequence-numbered, self-checksummed records), the one record writer and its
sinks, and the cut/RPO verification shared by restore and node loss."""
