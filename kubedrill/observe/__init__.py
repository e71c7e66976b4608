"""Observation: timelines and their measurements (RTO, RPO), merged watch sources, the
availability prober. Imports only the harness and k8s/ below it."""
