"""``python -m bench NAME [options]``; ``--json`` makes the last line one JSON object."""

from __future__ import annotations

import sys

BENCHMARKS = {
    "chat": "bench.chat",
    "widget": "bench.widget",
    "inbox": "bench.inbox",
    "contacts": "bench.contacts",
}


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in BENCHMARKS:
        print(f"usage: python -m bench {{{'|'.join(BENCHMARKS)}}} [--json] [options]", file=sys.stderr)
        return 2
    import importlib

    module = importlib.import_module(BENCHMARKS[sys.argv[1]])
    result: int = module.main(sys.argv[2:])
    return result


if __name__ == "__main__":
    sys.exit(main())
