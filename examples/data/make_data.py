"""Make the small data set of examples/mlp.cg: 64 "images" of 784 pixels and their labels.

    python examples/data/make_data.py      # rewrites x.csv and y.csv beside this file

Each image is mostly 0 with a blob of bright pixels whose place depends on its label, so the
network has something to learn; values have two decimals to keep the file small.  Fixed
seed: the files are the same on every run.
"""

from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def make(batch: int = 64, pixels: int = 784, classes: int = 10, seed: int = 0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, batch)
    x = np.zeros((batch, pixels))
    for k, label in enumerate(labels):
        centre = 60 + 70 * label
        spots = rng.integers(centre - 40, centre + 40, 90)
        x[k, spots] = np.round(rng.uniform(0.3, 1.0, spots.size), 2)
    y = np.eye(classes)[labels]
    return x, y


if __name__ == "__main__":
    x, y = make()
    np.savetxt(HERE / "x.csv", x, fmt="%.3g", delimiter=",")
    np.savetxt(HERE / "y.csv", y, fmt="%d", delimiter=",")
