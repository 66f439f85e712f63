import gzip
from pathlib import Path

import numpy as np
import pytest

from bpfast.datasets import (Dataset, Standardizer, load_csv, load_digits, one_hot,
                             train_test_split)

CSV_NAME = "optdigits-8x8.csv.gz"
CSV_CANDIDATES = [Path(__file__).resolve().parents[2] / "shared" / "data" / CSV_NAME,
                  Path("/work/shared/data") / CSV_NAME]


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- load_digits ---------------------------------------------------------------------------

def test_digits_shapes_dtypes_range(digits):
    assert isinstance(digits, Dataset)
    assert digits.data.shape == (1797, 64) and digits.data.dtype == np.float64
    assert digits.target.shape == (1797,) and digits.target.dtype == np.int64
    assert digits.data.min() == 0 and digits.data.max() == 16
    assert np.array_equal(digits.data, np.round(digits.data))
    assert set(np.unique(digits.target)) == set(range(10))
    assert digits.target_names == tuple("0123456789")
    assert len(digits.feature_names) == 64
    assert digits.feature_names[0] == "pixel_r0_c0" and digits.feature_names[63] == "pixel_r7_c7"
    X, y = digits
    assert X is digits.data and y is digits.target


def test_digits_class_counts(digits):
    counts = np.bincount(digits.target, minlength=10)
    assert counts.sum() == 1797
    assert np.all((counts >= 170) & (counts <= 190))


def test_digits_npz_matches_source_csv(digits):
    source = next((p for p in CSV_CANDIDATES if p.exists()), None)
    if source is None:
        pytest.skip(f"source CSV {CSV_NAME} not found in {[str(p.parent) for p in CSV_CANDIDATES]}")
    with gzip.open(source, "rt") as f:
        raw = np.loadtxt(f, delimiter=",", dtype=np.int64)
    assert raw.shape == (1797, 65)
    assert np.array_equal(digits.data, raw[:, :64])
    assert np.array_equal(digits.target, raw[:, 64])


def test_digits_npz_encoding():
    from importlib import resources
    with (resources.files("bpfast") / "data" / "digits.npz").open("rb") as f, np.load(f) as npz:
        assert sorted(npz.files) == ["labels", "pixels"]
        assert npz["pixels"].dtype == np.uint8 and npz["pixels"].shape == (1797, 64)
        assert npz["labels"].dtype == np.uint8 and npz["labels"].shape == (1797,)


def test_digits_attribution(digits):
    text = digits.description
    for needle in ["Optical Recognition of Handwritten Digits", "Alpaydin", "Kaynak",
                   "Bogazici University", "1998", "UCI Machine Learning Repository",
                   "CC BY 4.0", "https://creativecommons.org/licenses/by/4.0/"]:
        assert needle in text


def test_dataset_is_frozen(digits):
    with pytest.raises(AttributeError):
        digits.data = None


# --- load_csv: round trips -------------------------------------------------------------------

def test_csv_header_and_target_name(tmp_path):
    path = write(tmp_path, "a,label,b\n1,x,2.5\n\n3,y,-4\n5,x,6e1\n")
    ds = load_csv(path, target="label")
    assert ds.data.dtype == np.float64 and ds.target.dtype == np.int64
    np.testing.assert_array_equal(ds.data, [[1, 2.5], [3, -4], [5, 60]])
    np.testing.assert_array_equal(ds.target, [0, 1, 0])
    assert ds.feature_names == ("a", "b")
    assert ds.target_names == ("x", "y")
    assert str(path) in ds.description


def test_csv_no_header_index_target(tmp_path):
    path = write(tmp_path, "0,1,2\n3,4,5\n6,7,2\n")
    ds = load_csv(path, target=0)
    np.testing.assert_array_equal(ds.data, [[1, 2], [4, 5], [7, 2]])
    np.testing.assert_array_equal(ds.target, [0, 1, 2])
    assert ds.target_names == ("0", "3", "6")
    assert ds.feature_names == ("column_1", "column_2")
    ds = load_csv(path, target=-1, header=False)
    np.testing.assert_array_equal(ds.target, [0, 1, 0])
    assert ds.target_names == ("2", "5")


def test_csv_string_labels_without_header_are_inferred_as_data(tmp_path):
    path = write(tmp_path, "5.1,3.5,setosa\n7.0,3.2,versicolor\n6.3,3.3,setosa\n")
    ds = load_csv(path)
    assert ds.data.shape == (3, 2)
    assert ds.target_names == ("setosa", "versicolor")
    np.testing.assert_array_equal(ds.target, [0, 1, 0])


def test_csv_numeric_labels_sorted_numerically(tmp_path):
    path = write(tmp_path, "f;y\n1;10\n2;2\n3;10\n4;2.5\n", name="semi.csv")
    ds = load_csv(path, target="y", delimiter=";")
    assert ds.target_names == ("2", "2.5", "10")
    np.testing.assert_array_equal(ds.target, [2, 0, 2, 1])


def test_csv_header_flags(tmp_path):
    path = write(tmp_path, "1,2,0\n3,4,1\n")
    assert load_csv(path, header=True).data.shape == (1, 2)
    assert load_csv(path, header=True).feature_names == ("1", "2")
    assert load_csv(path, header=False).data.shape == (2, 2)


def test_csv_header_infer_target_only_non_numeric(tmp_path):
    path = write(tmp_path, "0,1,label\n3,4,1\n5,6,0\n")
    ds = load_csv(path)
    assert ds.feature_names == ("0", "1") and ds.target_names == ("0", "1")


# --- load_csv: errors ------------------------------------------------------------------------

def test_csv_empty_file(tmp_path):
    with pytest.raises(ValueError, match="empty file"):
        load_csv(write(tmp_path, "\n\n"))


def test_csv_header_only(tmp_path):
    with pytest.raises(ValueError, match="expected data rows after the header, got none"):
        load_csv(write(tmp_path, "a,b,y\n"))


def test_csv_ragged(tmp_path):
    with pytest.raises(ValueError, match=r"line 3 has 2 fields, expected 3"):
        load_csv(write(tmp_path, "a,b,y\n1,2,0\n1,2\n"))


def test_csv_non_numeric_feature(tmp_path):
    path = write(tmp_path, "a,b,y\n1,2,0\n\n1,oops,1\n")
    with pytest.raises(ValueError, match=r"data\.csv: line 4, column 1 \('b'\): expected a number, got 'oops'"):
        load_csv(path)


def test_csv_missing_feature(tmp_path):
    with pytest.raises(ValueError, match=r"line 3, column 0 \('a'\): .*missing value"):
        load_csv(write(tmp_path, "a,b,y\n1,2,0\n,2,1\n"))


@pytest.mark.parametrize("value", ["nan", "inf", "-Infinity"])
def test_csv_non_finite_feature(tmp_path, value):
    with pytest.raises(ValueError, match=rf"line 2, column 0 .*finite number, got '{value}'"):
        load_csv(write(tmp_path, f"1,2,0\n{value},2,1\n"))


def test_csv_missing_target(tmp_path):
    with pytest.raises(ValueError, match=r"line 2, column 2 .*missing value"):
        load_csv(write(tmp_path, "1,2,0\n1,2,\n"))


def test_csv_unknown_target_name(tmp_path):
    with pytest.raises(ValueError, match=r"'label' is not a column .*\['a', 'b', 'y'\]"):
        load_csv(write(tmp_path, "a,b,y\n1,2,0\n"), target="label")


def test_csv_target_name_without_header(tmp_path):
    with pytest.raises(ValueError, match="needs a header"):
        load_csv(write(tmp_path, "1,2,0\n"), target="y")


@pytest.mark.parametrize("target", [3, -4])
def test_csv_target_index_out_of_range(tmp_path, target):
    with pytest.raises(ValueError, match=rf"target index must be in \[-3, 2\] .*got {target}"):
        load_csv(write(tmp_path, "1,2,0\n"), target=target)


@pytest.mark.parametrize("target", [True, 1.0, None])
def test_csv_bad_target_type(tmp_path, target):
    with pytest.raises(TypeError, match="target must be a column name"):
        load_csv(write(tmp_path, "1,2,0\n"), target=target)


def test_csv_bad_header(tmp_path):
    path = write(tmp_path, "1,2,0\n")
    with pytest.raises(ValueError, match=r"header must be .*got 'yes'"):
        load_csv(path, header="yes")
    with pytest.raises(TypeError, match="header must be .*got 1"):
        load_csv(path, header=1)


def test_csv_single_column(tmp_path):
    with pytest.raises(ValueError, match="expected at least 2 columns"):
        load_csv(write(tmp_path, "1\n2\n"))


# --- train_test_split ------------------------------------------------------------------------

def test_split_stratified_proportions(digits):
    X, y = digits
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, seed=1)
    counts, test_counts = np.bincount(y), np.bincount(y_te, minlength=10)
    assert np.all(np.abs(test_counts - 0.25 * counts) <= 1)
    assert np.array_equal(np.bincount(y_tr, minlength=10) + test_counts, counts)
    assert X_tr.shape[1] == X_te.shape[1] == 64


def test_split_disjoint_complete_and_paired():
    X = np.arange(100).reshape(50, 2)
    y = np.repeat([0, 1, 2, 3, 4], 10)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, seed=3)
    rows = np.concatenate([X_tr[:, 0], X_te[:, 0]]) // 2
    assert sorted(rows) == list(range(50))
    assert np.array_equal(y[X_tr[:, 0] // 2], y_tr) and np.array_equal(y[X_te[:, 0] // 2], y_te)
    assert len(y_te) == 10


def test_split_deterministic_with_seed(digits):
    X, y = digits
    a = train_test_split(X, y, seed=42)
    b = train_test_split(X, y, seed=42)
    c = train_test_split(X, y, seed=43)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert not np.array_equal(a[3], c[3]) or not np.array_equal(a[1], c[1])


def test_split_shuffles_order():
    y = np.repeat([0, 1], 50)
    _, _, y_tr, _ = train_test_split(np.zeros((100, 1)), y, seed=0)
    assert not np.array_equal(y_tr, np.sort(y_tr))


def test_split_small_class_gets_test_sample():
    y = np.array([0] * 20 + [1, 1])
    _, _, y_tr, y_te = train_test_split(np.zeros((22, 3)), y, test_size=0.1, seed=0)
    assert np.sum(y_te == 1) == 1 and np.sum(y_tr == 1) == 1


def test_split_unstratified():
    y = np.arange(10)
    X_tr, X_te, _, _ = train_test_split(y, y, test_size=0.3, seed=0, stratify=False)
    assert len(X_te) == 3 and sorted(np.concatenate([X_tr, X_te])) == list(range(10))


@pytest.mark.parametrize("test_size", [0, 1, 1.5, -0.1, float("nan")])
def test_split_bad_test_size(test_size):
    with pytest.raises(ValueError, match=r"test_size must be a float in \(0, 1\), got"):
        train_test_split(np.zeros((10, 2)), np.zeros(10), test_size=test_size)


def test_split_test_size_type():
    with pytest.raises(TypeError, match=r"test_size must be a float in \(0, 1\), got '0.2'"):
        train_test_split(np.zeros((10, 2)), np.zeros(10), test_size="0.2")


def test_split_length_mismatch():
    with pytest.raises(ValueError, match=r"len\(X\)=10 and len\(y\)=9"):
        train_test_split(np.zeros((10, 2)), np.zeros(9))


def test_split_y_not_1d():
    with pytest.raises(ValueError, match=r"y must be 1-D .*got shape \(10, 1\)"):
        train_test_split(np.zeros((10, 2)), np.zeros((10, 1)))


def test_split_empty_result():
    with pytest.raises(ValueError, match="non-empty training and test set"):
        train_test_split(np.zeros((3, 1)), np.arange(3), test_size=0.2)


# --- Standardizer ----------------------------------------------------------------------------

def test_standardizer_zero_std_column():
    X = np.array([[1.0, 5.0, 0.1], [3.0, 5.0, 0.1], [5.0, 5.0, 0.1]])
    Z = Standardizer().fit_transform(X)
    assert Z.dtype == np.float64
    np.testing.assert_allclose(Z[:, 0], [-np.sqrt(1.5), 0, np.sqrt(1.5)])
    assert np.all(Z[:, 1:] == 0)


def test_standardizer_mean_and_std(digits):
    s = Standardizer().fit(digits.data)
    Z = s.transform(digits.data)
    varying = digits.data.std(axis=0) > 0
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Z[:, varying].std(axis=0), 1)
    assert np.all(Z[:, ~varying] == 0) and np.all(s.scale_[~varying] == 1)
    np.testing.assert_allclose(s.transform(digits.data[:5] + 0), Z[:5])


def test_standardizer_not_fitted():
    with pytest.raises(RuntimeError, match="not fitted.*call fit"):
        Standardizer().transform(np.zeros((2, 2)))


def test_standardizer_wrong_features():
    s = Standardizer().fit(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="X must have 4 features .*got 3"):
        s.transform(np.zeros((3, 3)))


@pytest.mark.parametrize("X", [np.zeros(3), np.zeros((2, 2, 2))])
def test_standardizer_not_2d(X):
    with pytest.raises(ValueError, match="X must be 2-D .*got shape"):
        Standardizer().fit(X)


def test_standardizer_no_samples():
    with pytest.raises(ValueError, match="at least 1 sample"):
        Standardizer().fit(np.zeros((0, 3)))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_standardizer_fit_refuses_non_finite_values(bad):
    """Found by a fresh-clone trial: NaN was taken silently and gave NaN means and scales."""
    X = np.ones((3, 2))
    X[2, 1] = bad
    with pytest.raises(ValueError, match=f"X must be finite to fit a Standardizer; got {bad} at row 2, column 1"):
        Standardizer().fit(X)


# --- one_hot ---------------------------------------------------------------------------------

def test_one_hot_values():
    out = one_hot(np.array([2, 0, 1, 2]))
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    out = one_hot([1.0, 0.0], n_classes=4, dtype=np.float32)
    assert out.dtype == np.float32 and out.shape == (2, 4)
    np.testing.assert_array_equal(out, [[0, 1, 0, 0], [1, 0, 0, 0]])
    assert one_hot(np.array([], dtype=int), n_classes=3).shape == (0, 3)


def test_one_hot_digits(digits):
    out = one_hot(digits.target)
    assert out.shape == (1797, 10)
    assert np.all(out.sum(axis=1) == 1) and np.array_equal(out.argmax(axis=1), digits.target)


@pytest.mark.parametrize("labels, n_classes, error, match", [
    ([[0, 1]], None, ValueError, r"labels must be 1-D .*got shape \(1, 2\)"),
    ([0, 1.5], None, ValueError, "labels must be whole numbers, got 1.5"),
    ([0, float("nan")], None, ValueError, "labels must be whole numbers, got nan"),
    (["a", "b"], None, TypeError, "labels must be an integer array, got dtype <U1"),
    ([True, False], None, TypeError, "labels must be an integer array, got dtype bool"),
    ([0, -1], 3, ValueError, r"labels must be in \[0, 3\), got -1"),
    ([0, 3], 3, ValueError, r"labels must be in \[0, 3\), got 3"),
    ([0, 1], 2.0, TypeError, "n_classes must be an int, got 2.0"),
    ([0, 1], True, TypeError, "n_classes must be an int, got True"),
    ([], -1, ValueError, "n_classes must be >= 0, got -1"),
    ([0], 0, ValueError, "n_classes must be >= 1 when there are labels, got 0"),   # said "in [0, 0), got 0"
])
def test_one_hot_errors(labels, n_classes, error, match):
    with pytest.raises(error, match=match):
        one_hot(labels, n_classes=n_classes)


def test_csv_equal_numeric_labels_are_one_class(tmp_path):
    ds = load_csv(write(tmp_path, "1,2\n2,2.0\n3,1\n"))
    assert ds.target_names == ("1", "2")
    np.testing.assert_array_equal(ds.target, [1, 1, 0])


def test_split_keeps_a_lone_sample_of_a_class_in_training():
    """A class with one sample cannot be in both splits: it must be trained on."""
    y = np.array([0, 0, 0, 0, 1])
    X = np.arange(5.0).reshape(-1, 1)
    for seed in range(10):
        _, _, y_train, y_test = train_test_split(X, y, test_size=0.4, seed=seed)
        assert 1 in y_train and 1 not in y_test


def test_split_of_singletons_says_why_the_test_set_is_empty():
    with pytest.raises(ValueError, match="a class needs 2 samples to appear in both"):
        train_test_split(np.zeros((2, 1)), np.array([0, 1]), test_size=0.5, seed=0)


def test_standardizer_columns_near_the_float64_limits():
    """Found by fresh-clone trials: values near 1.7e308 overflowed the mean or the standard
    deviation (NumPy warnings, then MLP blamed a NaN of the standardised matrix), and varying
    values below 1e-154 underflowed the standard deviation to 0 (a division by zero). Such
    columns are now computed in units of their largest |value|; others as before, bit for bit."""
    import warnings
    X = np.array([[1.7e308, 1.0, 1e-200], [-1.7e308, 2.0, -1e-200], [1.0e308, 3.0, 3e-200]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = Standardizer().fit(X)
        Z = s.transform(X)
        c = Standardizer().fit(np.array([[1.7e308, 1.0], [1.7e308, 2.0]]))   # constant: scale 1
    want_mean = [1.0e308 / 3, 2.0, 1e-200]
    want_std = [np.std(X[:, 0] / 1.7e308) * 1.7e308, np.std([1.0, 2.0, 3.0]), np.std([1.0, -1.0, 3.0]) * 1e-200]
    np.testing.assert_allclose(s.mean_, want_mean, rtol=1e-14)
    np.testing.assert_allclose(s.scale_, want_std, rtol=1e-14)
    assert s.scale_[1] == X[:, 1].std()                                       # ordinary: as before
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-15)
    np.testing.assert_allclose(Z.std(axis=0), 1, rtol=1e-14)
    np.testing.assert_array_equal(c.mean_, [1.7e308, 1.5])
    np.testing.assert_array_equal(c.scale_, [1.0, 0.5])


def test_standardizer_names_non_numeric_input():
    with pytest.raises(TypeError, match="X must be numeric"):
        Standardizer().fit([["a", "b"]])


def test_csv_field_over_the_csv_module_limit_is_a_value_error(tmp_path):
    """Found by a fresh-clone trial: a field over 128 KiB raised _csv.Error, which bpfast train
    did not catch (a traceback)."""
    path = write(tmp_path, 'a,b,y\n"' + "x" * 200_000 + '",1,0\n1,2,1\n')
    with pytest.raises(ValueError, match=r"line 2: not a CSV file bpfast can read \(field larger than field limit"):
        load_csv(path)


@pytest.mark.parametrize("path", [None, 123])
def test_load_csv_names_path(path):
    """Found by a fresh-clone trial: Python's own message, which did not name the argument."""
    with pytest.raises(TypeError, match="path must be a file name"):
        load_csv(path)
