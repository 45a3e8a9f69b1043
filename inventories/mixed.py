"""A mixed Linux + Windows inventory, planned with `tfprov plan inventories/mixed.py`.

Windows hosts use tfprov's own connector (``@winssh/HOST``: paramiko to the Windows
OpenSSH server, every command run by PowerShell).  Hosts with a ``profile`` (a saved
host profile, e.g. from ``tfprov probe … --out``) are planned from it without connecting:
that is how this example plans machines that are not reachable from here.  Addresses
are documentation addresses.
"""

linux = [
    (
        "ws-ubuntu-4090",
        {"ssh_hostname": "192.0.2.41", "profile": "profiles/ubuntu2204-rtx4090.json"},
    ),
    ("node-k80", {"ssh_hostname": "192.0.2.42", "profile": "profiles/centos7-tesla-k80.json"}),
]

windows = [
    ("@winssh/192.0.2.51", {"profile": "profiles/win10-laptop-gtx850m.json", "tensorflow": "2.1"}),
    ("@winssh/192.0.2.52", {"profile": "profiles/win11-rtx3060.json"}),
    (
        "@winssh/192.0.2.53",
        {"profile": "profiles/win-desktop-noavx-gtx650.json", "allow_community_builds": True},
    ),
]
