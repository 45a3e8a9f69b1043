"""pyinfra connectors shipped with tfprov.

``winssh`` (:class:`tfprov.connectors.winssh.WinSSHConnector`): Windows hosts over the
Windows OpenSSH server, every command run through ``powershell.exe -EncodedCommand``.
It is registered with pyinfra through the ``pyinfra.connectors`` entry point group::

    [project.entry-points."pyinfra.connectors"]
    winssh = "tfprov.connectors.winssh:WinSSHConnector"
"""
