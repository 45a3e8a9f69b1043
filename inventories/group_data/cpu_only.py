# Servers without a GPU.
gpu = "off"
