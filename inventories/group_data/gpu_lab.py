# The GPU lab: use the GPU, install the planned driver branch, reboot when it changed.
gpu = "auto"
driver = "auto"
reboot = True
