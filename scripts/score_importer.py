"""Score the importer on a folder in the devset format: `python scripts/score_importer.py [DIR]`.

Prints per-field precision, recall and F1, exact-match rates and body-boundary counts; exits 1
when the targets of the importer issue are not met.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from clippings.authority import load_authority
from clippings.importer.extract import Extractor
from clippings.importer.scoring import score_folder

SITE = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=SITE / ".." / "shared" / "devset")
    args = parser.parse_args()
    authority = load_authority(SITE / "data" / "entities.yaml")
    score = score_folder(args.folder, Extractor(authority, SITE / "data" / "boilerplate.yaml"))
    print(score.report())
    return 0 if score.meets_targets() else 1


if __name__ == "__main__":
    sys.exit(main())
