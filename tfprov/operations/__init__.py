"""pyinfra operations that carry out a tfprov plan, one module per component.

Each operation reads facts first and yields nothing (``host.noop(reason)``) when the host
already matches, so a second run of the deploy changes nothing.
"""
