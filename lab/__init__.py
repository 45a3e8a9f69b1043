"""The development lab: the local test fleet (network-namespace hosts), simulated
``@fake`` hosts, the README demo and the deploy harness that tests and benchmarks share.

Not part of the shipped ``tfprov`` package; nothing under ``tfprov/`` imports it.
"""
