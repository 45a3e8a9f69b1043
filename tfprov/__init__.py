"""tfprov: declarative provisioning of working TensorFlow GPU stacks with pyinfra.

Data flows one way: probe (facts) -> resolve (pure) -> apply (operations) -> verify.
"""

__version__ = "0.1.0"
