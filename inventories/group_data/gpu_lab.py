# The GPU lab: use the GPU, install the planned driver branch.  A driver change needs a
# reboot; tfprov reboots only where a host or group sets ``reboot = True``.
gpu = "auto"
driver = "auto"
reboot = False
