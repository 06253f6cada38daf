"""The Swarm tests' lab and stack, shared by tests/components/swarm_stack and
bench/bench_swarm.py: the 3-node lab (lab.py), a repository of the stack's releases
(app_repo.py, the stack in app/) and the equivalence suite's I/O (equivalence.py, its case
in cases/)."""
