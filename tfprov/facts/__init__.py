"""pyinfra facts that learn what tfprov needs to know about a host.

Each fact's ``command()`` is POSIX sh that always exits 0 and prints nothing when its tool
is absent (pyinfra then returns the fact's ``default()``), and its ``process()`` is a thin
call into a pure ``parse_*`` function of the same module.  :class:`tfprov.facts.profile.
HostProfile` runs all of those commands in one remote command and feeds each section of
the output to the same ``process()``: one round trip, one copy of every parser.
"""
