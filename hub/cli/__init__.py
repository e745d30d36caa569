"""The ``puhui`` command line."""
