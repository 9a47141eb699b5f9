"""The language server: one module per LSP feature, each a thin adapter over the shared engine."""
