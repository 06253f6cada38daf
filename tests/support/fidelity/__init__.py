"""Comparing two deployments' inspect output: what is removed by design (normalize) and the
field-by-field difference (diff). Used by tests/fidelity and the Swarm equivalence tests."""
