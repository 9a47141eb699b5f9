"""How amounts read in tables and reports: dollars with enough decimals to see a per-call price."""


def money(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value == 0:
        return "$0"
    if value < 0.01:
        return f"${value:.5f}"
    if value < 1:
        return f"${value:.4f}"
    return f"${value:,.2f}"
