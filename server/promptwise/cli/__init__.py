"""The command-line interface: the same engine as the language server, for terminals and CI."""
