"""Benchmarks: ``python -m bench NAME [--json]``. They print figures; tests assert behaviour."""


def report(figures: dict[str, object], goals: dict[str, str], as_json: bool) -> None:
    """One figure per line with its goal; with ``--json``, one JSON object as the last line."""
    import json

    for key, value in figures.items():
        goal = f"   (goal {goals[key]})" if key in goals else ""
        print(f"{key:>24}: {value}{goal}")
    if as_json:
        print(json.dumps(figures))
