"""pyinfra facts that learn what tfprov needs to know about a host, one module per
subject (cpu, gpu, nvidia, cuda, python, conda, tensorflow, system, env), each with its
Linux facts and, named ``Win*``, its Windows ones side by side.

A Linux fact's ``command()`` is POSIX sh, a Windows fact's a PowerShell script printing
one JSON line; both always exit 0 and print nothing when their tool is absent (pyinfra
then returns the fact's ``default()``), and ``process()`` is a thin call into the
subject's ``parse_*`` functions.  The whole-profile facts of :mod:`tfprov.facts.profile`
run all of a host's commands in one remote command and feed each section of the output
to the same parsers: one round trip, one copy of every parser.  Facts only observe:
nothing here looks anything up in the catalog.
"""
