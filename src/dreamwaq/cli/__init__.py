"""The ``dreamwaq`` command line."""
