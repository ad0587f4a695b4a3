"""Exercise solutions collected while practising."""


def longest_run(values: list[int]) -> int:
    """Given a list of integers, return the length of the longest run of consecutive equal
    values, or zero when the list is empty. For example [1, 1, 2, 2, 2, 3] gives 3."""
    best = run = 0
    previous = object()
    for value in values:
        run = run + 1 if value == previous else 1
        previous = value
        best = max(best, run)
    return best
