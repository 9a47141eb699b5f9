"""Cost in review: what a change does to each prompt's tokens and spend, against a git base."""
