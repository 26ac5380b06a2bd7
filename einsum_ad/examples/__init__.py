"""The example training runs behind ``einsum-ad train``: digits MLP, transformer, MPS."""
