"""pyinfra operations that carry out a tfprov plan: ``<component>.py`` per component, and
``<component>_windows.py`` beside it where the Windows commands differ.  Operations take
arguments only (the plan's values and the host's download sources, passed by
:mod:`tfprov.apply.steps`) and read facts; never host data or the catalog.

Each operation reads facts first and yields nothing (``host.noop(reason)``) when the host
already matches, so a second run of the deploy changes nothing.
"""
