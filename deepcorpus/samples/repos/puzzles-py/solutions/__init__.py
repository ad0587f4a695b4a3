"""Solutions to small programming exercises."""

from solutions.pairs import longest_run

__all__ = ["longest_run"]
