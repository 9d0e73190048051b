"""Generated folders in KuaiRec's file formats (no copy of KuaiRec exists here): the tests build small ones, the
benchmark one of the real data set's size. ``python -m feedlab.sources.kuairec_shaped FOLDER [--real-size]``.

The layout is the real data set's: a fully observed small matrix (the first ``n_small_users`` users x the first
``n_small_videos`` videos) and a big matrix of ``n_users`` x ``n_videos`` at ``density`` without the small matrix's
pairs. Each video has one tag; watch_ratio grows with the user's taste for the video's tag, so that the small
matrix holds likes (watch_ratio > 2) for policies to find. It is a shape and size, not KuaiRec's behaviour.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from feedlab.sources.kuairec import BEIJING_UTC_OFFSET_HOURS, MATRIX_COLUMNS

START = np.datetime64("2020-07-05T00:00:00", "ms")
#: Users per block when drawing the big matrix (bounds the memory of the user x video grid).
BLOCK_USERS = 1_000


@dataclass(frozen=True)
class KuaiRecShape:
    """Sizes of a generated folder; ``REAL_SIZE`` is KuaiRec 2.0's (1,411 x 3,327 small; 7,176 x 10,728 big at
    13.4 %: about 4.7M + 9.7M interactions)."""

    n_small_users: int = 30
    n_small_videos: int = 40
    n_users: int = 60
    n_videos: int = 120
    density: float = 0.3
    n_tags: int = 6
    n_days: int = 5
    seed: int = 0


REAL_SIZE = KuaiRecShape(1_411, 3_327, 7_176, 10_728, 0.134, 31, 60)


def write_kuairec_shaped(folder: Path, shape: KuaiRecShape = KuaiRecShape()) -> Path:
    """Write small_matrix.csv, big_matrix.csv and item_categories.csv into ``folder``; returns ``folder``."""
    rng = np.random.default_rng(shape.seed)
    folder.mkdir(parents=True, exist_ok=True)
    tag = rng.integers(0, shape.n_tags, shape.n_videos)
    length_ms = rng.integers(5_000, 60_000, shape.n_videos)
    taste = rng.dirichlet(np.full(shape.n_tags, 0.5), shape.n_users)

    def matrix(users: np.ndarray, videos: np.ndarray) -> pd.DataFrame:
        ratio = np.clip(0.3 + 1.3 * shape.n_tags * taste[users, tag[videos]]
                        + rng.normal(0, 0.3, len(users)), 0, None)
        at = START + rng.integers(0, shape.n_days * 86_400_000, len(users)).astype("timedelta64[ms]")
        play = np.round(ratio * length_ms[videos]).astype(np.int64)
        # KuaiRec's time and date are Beijing local time, its timestamp Unix seconds: all three the same instant
        beijing = at + np.timedelta64(BEIJING_UTC_OFFSET_HOURS, "h")
        time = pd.Series(beijing).dt.strftime("%Y-%m-%d %H:%M:%S.%f").str[:-3]
        return pd.DataFrame({
            "user_id": users, "video_id": videos, "play_duration": play, "video_duration": length_ms[videos],
            "time": time, "date": time.str[:10].str.replace("-", ""),
            "timestamp": np.round((at - np.datetime64(0, "ms")).astype(np.int64) / 1000, 3),
            "watch_ratio": np.round(play / length_ms[videos], 6),
        }, columns=list(MATRIX_COLUMNS))

    small_users, small_videos = np.divmod(np.arange(shape.n_small_users * shape.n_small_videos),
                                          shape.n_small_videos)
    matrix(small_users, small_videos).to_csv(folder / "small_matrix.csv", index=False)
    blocks = []
    for first in range(0, shape.n_users, BLOCK_USERS):
        block = np.arange(first, min(first + BLOCK_USERS, shape.n_users))
        users, videos = np.divmod(np.arange(len(block) * shape.n_videos), shape.n_videos)
        users = block[users]
        in_small = (users < shape.n_small_users) & (videos < shape.n_small_videos)
        keep = ~in_small & (rng.uniform(size=len(users)) < shape.density)
        blocks.append(matrix(users[keep], videos[keep]))
    pd.concat(blocks).to_csv(folder / "big_matrix.csv", index=False)
    pd.DataFrame({"video_id": np.arange(shape.n_videos), "feat": [f"[{t}]" for t in tag]}).to_csv(
        folder / "item_categories.csv", index=False)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--real-size", action="store_true", help="KuaiRec 2.0's sizes (about 14M interactions)")
    args = parser.parse_args()
    write_kuairec_shaped(args.folder, REAL_SIZE if args.real_size else KuaiRecShape())
    print(f"kuairec_shaped: wrote {args.folder}")


if __name__ == "__main__":
    main()
