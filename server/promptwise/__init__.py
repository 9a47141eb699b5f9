"""promptwise: token counts, costs, budgets and evals for LLM prompt files."""

__version__ = "0.1.0"
