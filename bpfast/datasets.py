"""Data sets and small preprocessing helpers: the bundled digits, CSV loading,
stratified splitting, standardization and one-hot encoding.

``data/digits.npz`` was made from ``/work/shared/data/optdigits-8x8.csv.gz``
(UCI "Optical Recognition of Handwritten Digits", CC BY 4.0, see
``data/DIGITS.md``) with::

    a = np.loadtxt("optdigits-8x8.csv.gz", delimiter=",", dtype=np.int64)
    np.savez_compressed("bpfast/data/digits.npz",
                        pixels=a[:, :64].astype(np.uint8), labels=a[:, 64].astype(np.uint8))
"""

import csv
import math
import numbers
import os
from dataclasses import dataclass
from importlib import resources

import numpy as np

from . import _validate as V

__all__ = ["Dataset", "load_digits", "load_csv", "TargetIndexError", "train_test_split", "Standardizer", "one_hot",
           "ARTICLE_X", "ARTICLE_Y", "ARTICLE_SEED"]

#: The article's two samples and their targets (the run of ``bpfast demo``).
ARTICLE_X = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
ARTICLE_Y = np.array([[1.0, 0.0], [0.0, 1.0]])
#: A U[0,1) start (``MLP([3, 3, 2], init="uniform", seed=16)``) whose run lands near the
#: article's printed numbers; the article's own start was unseeded (erratum 4).
ARTICLE_SEED = 16


@dataclass(frozen=True, eq=False)
class Dataset:
    """A labelled data set.

    Unpacks as ``X, y = dataset``.

    Attributes
    ----------
    data : ndarray of shape (n_samples, n_features)
        Feature values, float64.
    target : ndarray of shape (n_samples,)
        Class indices 0..n_classes-1, int64.
    feature_names : tuple of str, length n_features
        Name of each feature column.
    target_names : tuple of str, length n_classes
        Original label of each class: ``target_names[i]`` is class ``i``.
    description : str
        Where the data came from (including any required attribution).
    """

    data: np.ndarray
    target: np.ndarray
    feature_names: tuple
    target_names: tuple
    description: str

    def __iter__(self):
        yield self.data
        yield self.target


def load_digits():
    """Load the bundled 8x8 handwritten digits (1797 samples, 10 classes).

    Returns
    -------
    Dataset
        ``data`` of shape (1797, 64): float64 pixel counts 0..16 of each 8x8 image in
        row-major order (features ``"pixel_r{row}_c{col}"``); ``target`` of shape (1797,):
        int64 digits 0..9; ``target_names`` ``("0", ..., "9")``; ``description`` holds the
        CC BY 4.0 attribution of the UCI source.
    """
    folder = resources.files(__package__) / "data"
    with (folder / "digits.npz").open("rb") as f, np.load(f) as npz:
        pixels, labels = npz["pixels"], npz["labels"]
    attribution = (folder / "DIGITS.md").read_text(encoding="utf-8")
    return Dataset(
        data=pixels.astype(np.float64),
        target=labels.astype(np.int64),
        feature_names=tuple(f"pixel_r{r}_c{c}" for r in range(8) for c in range(8)),
        target_names=tuple(str(d) for d in range(10)),
        description="Handwritten digits, 8x8 images, bundled with bpfast.\n\n" + attribution,
    )


def _is_float(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


class TargetIndexError(ValueError):
    """:func:`load_csv`'s target index is out of range (the command line then tries it as a name)."""


def load_csv(path, target=-1, *, delimiter=",", header="infer"):
    """Load a classification data set from a CSV file.

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file (UTF-8). Empty lines are ignored.
    target : str or int, default -1
        The label column: a header name, or a column index (negative counts from the end).
    delimiter : str, default ","
        Field separator.
    header : {"infer", True, False}, default "infer"
        Whether the first non-empty line holds column names. ``"infer"``: it does if any
        of its fields does not parse as a number, except when the only such field is in
        the target column and its value also occurs as a label further down (a header-less
        file with string labels).

    Returns
    -------
    Dataset
        ``data`` of shape (n_samples, n_features): all other columns as float64;
        ``target`` of shape (n_samples,): int64 indices into ``target_names``, the sorted
        unique labels as strings (sorted numerically when all labels are numbers; then
        equal numbers such as "2" and "2.0" are one class, named as first seen).

    Raises
    ------
    ValueError
        Empty file, no data rows, rows of different lengths, a feature value that is
        missing, not a number, or not finite, an unknown target name or an index out of
        range, or `header` an unknown string; messages name the file, line and column.
    TypeError
        `target` is not a str or int (bool included), or `header` is not a str or bool.
    """
    if isinstance(target, (bool, np.bool_)) or not isinstance(target, (str, numbers.Integral)):
        raise TypeError(f"target must be a column name (str) or index (int), got {target!r}")
    if not (header is True or header is False or header == "infer"):
        error = ValueError if isinstance(header, str) else TypeError
        raise error(f'header must be "infer", True or False, got {header!r}')
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(f"path must be a file name (str or os.PathLike); got {type(path).__name__} {path!r}")
    path = os.fspath(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f, delimiter=delimiter)
            rows = [(reader.line_num, [field.strip() for field in row])
                    for row in reader if row and not (len(row) == 1 and not row[0].strip())]
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: expected a UTF-8 text CSV file, got bytes that are not text "
                         f"(byte {err.object[err.start]:#04x} at offset {err.start})") from None
    except csv.Error as err:                           # e.g. a field over csv's size limit (128 KiB)
        raise ValueError(f"{path}: line {reader.line_num}: not a CSV file bpfast can read ({err})") from None
    if not rows:
        raise ValueError(f"{path}: expected a CSV file with data, got an empty file")

    first_line, first = rows[0]
    n_cols = len(first)
    if n_cols < 2:
        raise ValueError(f"{path}: expected at least 2 columns (features and target), "
                         f"got {n_cols} on line {first_line}")
    for line, row in rows:
        if len(row) != n_cols:
            raise ValueError(f"{path}: line {line} has {len(row)} fields, "
                             f"expected {n_cols} like line {first_line}")
    if isinstance(target, numbers.Integral):
        if not -n_cols <= target < n_cols:
            raise TargetIndexError(f"target index must be in [{-n_cols}, {n_cols - 1}] "
                             f"for {path} ({n_cols} columns), got {target}")
        t = int(target) % n_cols
    if header == "infer":
        bad = [j for j, field in enumerate(first) if not _is_float(field)]
        header = bool(bad) and not (
            isinstance(target, numbers.Integral) and bad == [t]
            and any(row[t] == first[t] for _, row in rows[1:]))
    if header:
        names, rows = first, rows[1:]
    else:
        names = [f"column_{j}" for j in range(n_cols)]
    if isinstance(target, str):
        if not header:
            raise ValueError(f"target {target!r} is a column name, which needs a header, "
                             f"but {path} was read without one; pass header=True "
                             f"or an int index")
        if names.count(target) != 1:
            what = "is not a column" if target not in names else "names several columns"
            raise ValueError(f"target {target!r} {what} of {path}; expected one of {names}")
        t = names.index(target)
    if not rows:
        raise ValueError(f"{path}: expected data rows after the header, got none")

    features = [j for j in range(n_cols) if j != t]
    data = np.empty((len(rows), len(features)), dtype=np.float64)
    for i, (line, row) in enumerate(rows):
        for k, j in enumerate(features):
            where = f"{path}: line {line}, column {j} ({names[j]!r})"
            if row[j] == "":
                raise ValueError(f"{where}: expected a number, got a missing value")
            try:
                data[i, k] = value = float(row[j])
            except ValueError:
                raise ValueError(f"{where}: expected a number, got {row[j]!r}") from None
            if not math.isfinite(value):
                raise ValueError(f"{where}: expected a finite number, got {row[j]!r}")
        if row[t] == "":
            raise ValueError(f"{path}: line {line}, column {t} ({names[t]!r}): "
                             f"expected a target label, got a missing value")

    labels = [row[t] for _, row in rows]
    keys = [float(v) for v in labels] if all(map(_is_float, labels)) else labels
    if not all(isinstance(k, str) or math.isfinite(k) for k in keys):
        keys = labels
    classes = sorted(set(keys))
    index = {k: i for i, k in enumerate(classes)}
    first_label = {}
    for k, v in zip(keys, labels):
        first_label.setdefault(k, v)
    return Dataset(
        data=data,
        target=np.array([index[k] for k in keys], dtype=np.int64),
        feature_names=tuple(names[j] for j in features),
        target_names=tuple(first_label[k] for k in classes),
        description=(f"Loaded from {path}: {len(rows)} samples, {len(features)} features, "
                     f"{len(classes)} classes in column {t} ({names[t]!r})."),
    )


def train_test_split(X, y, test_size=0.2, *, seed=None, stratify=True):
    """Split samples at random into a training and a test set.

    Parameters
    ----------
    X : ndarray of shape (n_samples, ...)
        Samples.
    y : ndarray of shape (n_samples,)
        Labels.
    test_size : float, default 0.2
        Fraction of samples for the test set, in (0, 1).
    seed : int or None, default None
        Seed for ``np.random.default_rng``; the same seed gives the same split.
    stratify : bool, default True
        If True, each class contributes ``round(test_size * n_class)`` samples to the test
        set, kept between 1 and n_class - 1 for classes of 2 or more samples.

    Returns
    -------
    X_train : ndarray of shape (n_train, ...)
    X_test : ndarray of shape (n_test, ...)
    y_train : ndarray of shape (n_train,)
    y_test : ndarray of shape (n_test,)
        Each split in shuffled order.

    Raises
    ------
    ValueError
        `test_size` outside (0, 1), `X` and `y` of different lengths, `y` not 1-D, or a
        split that would be empty.
    TypeError
        `test_size` is not a real number.
    """
    V.not_masked("X", X)
    V.not_masked("y", y)
    X, y = np.asarray(X), np.asarray(y)
    if isinstance(test_size, (bool, np.bool_)) or not isinstance(test_size, numbers.Real):
        raise TypeError(f"test_size must be a float in (0, 1), got {test_size!r}")
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be a float in (0, 1), got {test_size!r}")
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D of shape (n_samples,), got shape {y.shape}")
    if X.ndim == 0 or len(X) != len(y):
        raise ValueError(f"X and y must have the same number of samples, "
                         f"got len(X)={len(X) if X.ndim else 'scalar'} and len(y)={len(y)}")
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(y == c) for c in np.unique(y)] if stratify else [np.arange(len(y))]
    train, test = [], []
    for idx in groups:
        idx = rng.permutation(idx)
        n_test = round(test_size * len(idx))
        if len(idx) >= 2:
            n_test = min(max(n_test, 1), len(idx) - 1)
        else:
            n_test = 0                                   # a lone sample must be trained on
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    train = rng.permutation(np.concatenate(train))
    test = rng.permutation(np.concatenate(test))
    if len(train) == 0 or len(test) == 0:
        raise ValueError(f"expected a non-empty training and test set from {len(y)} samples "
                         f"with test_size={test_size}, got {len(train)} and {len(test)}"
                         + (" (with stratify, a class needs 2 samples to appear in both)"
                            if stratify and len(test) == 0 else ""))
    return X[train], X[test], y[train], y[test]


class Standardizer:
    """Scale each feature to zero mean and unit variance.

    Features that are constant in the data passed to `fit` get scale 1 (and map to 0).

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
        Per-feature mean of the fitted data.
    scale_ : ndarray of shape (n_features,)
        Per-feature standard deviation, 1 for constant features.
    """

    def __init__(self):
        self.mean_ = None
        self.scale_ = None

    @staticmethod
    def _check(X):
        V.not_masked("X", X)
        try:
            X = np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise TypeError(f"X must be numeric (float64 or convertible); {err}") from None
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D of shape (n_samples, n_features), got shape {X.shape}")
        return X

    def fit(self, X):
        """Store the mean and standard deviation of each feature.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)

        Returns
        -------
        Standardizer
            self.
        """
        X = self._check(X)
        if len(X) == 0:
            raise ValueError(f"X must have at least 1 sample, got shape {X.shape}")
        bad = ~np.isfinite(X)
        if bad.any():                                  # the mean and scale would be NaN
            row, col = np.argwhere(bad)[0]
            raise ValueError(f"X must be finite to fit a Standardizer; got {X[row, col]} at row {row}, "
                             f"column {col}")
        constant = (X == X[0]).all(axis=0)
        with np.errstate(all="ignore"):                # values near 1.8e308 overflow, below 1e-154 the
            mean, std = X.mean(axis=0), X.std(axis=0)  # squares underflow: redone below, scaled
        redo = ~constant & ~(np.isfinite(mean) & np.isfinite(std) & (std > 0))
        if redo.any():                                 # in units of each column's largest |value|
            top = np.abs(X[:, redo]).max(axis=0)
            unit = X[:, redo] / top
            mean[redo], std[redo] = unit.mean(axis=0) * top, unit.std(axis=0) * top
        self.mean_ = np.where(constant, X[0], mean)
        self.scale_ = np.where(constant, 1.0, std)
        return self

    def transform(self, X):
        """Standardize `X` with the fitted mean and scale.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_features)
            ``(X - mean_) / scale_`` as float64.
        """
        if self.mean_ is None:
            raise RuntimeError("Standardizer is not fitted: call fit(X) before transform(X)")
        X = self._check(X)
        if X.shape[1] != len(self.mean_):
            raise ValueError(f"X must have {len(self.mean_)} features (as in fit), "
                             f"got {X.shape[1]}")
        with np.errstate(over="ignore"):              # X - mean may overflow near 1.8e308 ...
            Z = (X - self.mean_) / self.scale_
        far = ~np.isfinite(Z) & np.isfinite(X)
        if far.any():                                  # ... where X / scale - mean / scale may not
            with np.errstate(over="ignore"):
                Z[far] = (X / self.scale_ - self.mean_ / self.scale_)[far]
        return Z

    def fit_transform(self, X):
        """Fit to `X`, then transform it.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """
        return self.fit(X).transform(X)


def one_hot(labels, n_classes=None, dtype=np.float64):
    """Encode class indices as one-hot rows.

    Parameters
    ----------
    labels : array_like of shape (n_samples,)
        Integer class indices (floats holding whole numbers are accepted).
    n_classes : int, optional
        Number of classes; default ``labels.max() + 1`` (0 for no labels).
    dtype : data-type, default np.float64
        dtype of the result.

    Returns
    -------
    ndarray of shape (n_samples, n_classes)
        Row ``i`` is 1 in column ``labels[i]`` and 0 elsewhere.

    Raises
    ------
    TypeError
        `labels` not of integer (or float) dtype, or `n_classes` not an int.
    ValueError
        `labels` not 1-D, not whole numbers, or outside [0, n_classes).
    """
    V.not_masked("labels", labels)
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D of shape (n_samples,), got shape {labels.shape}")
    if labels.dtype.kind == "f":
        bad = ~np.isfinite(labels) | (labels != np.round(labels))
        if bad.any():
            raise ValueError(f"labels must be whole numbers, got {labels[bad][0]}")
        labels = labels.astype(np.int64)
    elif labels.dtype.kind not in "iu":
        raise TypeError(f"labels must be an integer array, got dtype {labels.dtype}")
    if n_classes is None:
        n_classes = int(labels.max()) + 1 if labels.size else 0
    elif isinstance(n_classes, (bool, np.bool_)) or not isinstance(n_classes, numbers.Integral):
        raise TypeError(f"n_classes must be an int, got {n_classes!r}")
    elif n_classes < 0:
        raise ValueError(f"n_classes must be >= 0, got {n_classes}")
    elif n_classes == 0 and labels.size:
        raise ValueError("n_classes must be >= 1 when there are labels, got 0")
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        bad = labels[(labels < 0) | (labels >= n_classes)][0]
        raise ValueError(f"labels must be in [0, {n_classes}), got {bad}")
    out = np.zeros((len(labels), int(n_classes)), dtype=dtype)
    out[np.arange(len(labels)), labels] = 1
    return out
