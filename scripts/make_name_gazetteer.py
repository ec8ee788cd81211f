"""Write the importer's name gazetteer, `clippings/importer/names.tsv.gz`, from `names-dataset`.

`python scripts/make_name_gazetteer.py` (needs the `names-data` extra). names-dataset (MIT) counts
the first and last names of 533M social-network profiles in 105 countries; loading it takes 30 s
and 2 GB, so the importer reads this extract instead: the words ranked within the cuts below by
their kind (`given` or `surname`) and best rank in any country, one line per kind and rank
(`given<TAB>715<TAB>Word Word …`), which loads several times faster than a line per word.
"""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import names_dataset

OUTPUT = Path(__file__).resolve().parents[1] / "clippings" / "importer" / "names.tsv.gz"
# Best rank in any country kept per kind: wide enough for the recall check, and the importer
# applies its own, tighter cuts for each use.
CUTS = {"given": ("first_names", 3000), "surname": ("last_names", 10000)}


def ranked_words(pickle_name: str, cut: int) -> dict[str, int]:
    path = Path(names_dataset.__file__).with_name("v3") / f"{pickle_name}.pkl.gz"
    with gzip.open(path) as handle:
        data = pickle.load(handle)
    ranked = {}
    for name, info in data.items():
        ranks = info.get("rank") or {}
        # Single capitalised words only: the importer checks one word at a time.
        if ranks and " " not in name and name[:1].isupper() and min(ranks.values()) <= cut:
            ranked[name] = min(ranks.values())
    return ranked


def main() -> None:
    lines = []
    for kind, (pickle_name, cut) in CUTS.items():
        by_rank: dict[int, list[str]] = {}
        for name, rank in sorted(ranked_words(pickle_name, cut).items()):
            by_rank.setdefault(rank, []).append(name)
        lines += [f"{kind}\t{rank}\t{' '.join(names)}" for rank, names in sorted(by_rank.items())]
    # mtime=0: the same data gives the same bytes.
    with gzip.GzipFile(OUTPUT, "wb", mtime=0) as handle:
        handle.write(("\n".join(lines) + "\n").encode("utf-8"))
    print(f"{OUTPUT}: {len(lines)} ranks")


if __name__ == "__main__":
    main()
