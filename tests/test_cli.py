"""The command line: the demo's article run, training on digits and on a CSV, and refusals up front."""

import json
import os

import numpy as np
import pytest

from bpfast import MLP
from bpfast.bench import PROBLEMS, fit_memory
from bpfast.cli import main
from bpfast.datasets import ARTICLE_X, ARTICLE_Y


def test_demo_prints_the_article_run(capsys):
    assert main(["demo", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    assert "     0  1.348790" in out and "  1000  0.010982" in out     # seed 16: 1.35 -> 0.011
    assert "[0.9460 0.0533]   target [1.0, 0.0]" in out
    assert "all agree" in out                                          # the equivalence report
    assert "loops / vectorized speed ratio" in out


def test_demo_exact_bias_rule_differs(capsys):
    assert main(["demo", "--repeats", "1", "--exact-bias", "--steps", "10"]) == 0
    assert "bias gradient: 'sum'" in capsys.readouterr().out


@pytest.mark.slow
def test_train_digits_reaches_95_percent(capsys, tmp_path):
    assert main(["train", "digits", "--no-progress", "--save", str(tmp_path / "m.npz")]) == 0
    out = capsys.readouterr().out
    test_acc = float(out.split("test ")[-1].split("%")[0])
    assert test_acc >= 95.0
    assert (tmp_path / "m.npz").exists()


def _csv(tmp_path, text):
    path = tmp_path / "data.csv"
    path.write_text(text)
    return str(path)


def test_train_digits_refuses_a_target_column(capsys):
    """--target applies to CSV files; on the bundled digits it was silently ignored."""
    assert main(["train", "digits", "--target", "y"]) == 2
    assert "--target picks the target column of a CSV file" in capsys.readouterr().err


def test_train_csv_with_named_string_target(tmp_path, capsys):
    rows = ["a,b,kind"] + [f"{i % 7},{(i * 3) % 5},{'yes' if i % 2 else 'no'}" for i in range(40)]
    path = _csv(tmp_path, "\n".join(rows) + "\n")
    assert main(["train", path, "--target", "kind", "--epochs", "3", "--no-progress"]) == 0
    assert "2 classes" in capsys.readouterr().out


def test_train_csv_with_one_class_is_refused_before_training(tmp_path, capsys):
    path = _csv(tmp_path, "a,b,label\n1,2,x\n3,4,x\n5,6,x\n")
    assert main(["train", path, "--target", "label", "--no-progress"]) == 2
    captured = capsys.readouterr()
    assert "holds only 1 class (x): a classifier needs at least 2" in captured.err
    assert "network" not in captured.out


@pytest.mark.parametrize("argv,message", [
    (["train", "digits", "--hidden", ""], "argument --hidden: must be comma-separated positive integers"),
    (["train", "digits", "--hidden", "32,,16"], "argument --hidden: must be comma-separated positive "
                                                "integers such as 32 or 64,32; got '32,,16'"),
    (["train", "digits", "--epochs", "2.5"], "argument --epochs: must be a positive integer up to 100000000; "
                                             "got '2.5'"),
    # a fresh-clone trial: fit refused it after the header was printed, naming 'epochs'
    (["demo", "--steps", "10" * 10], "argument --steps: must be a positive integer up to 100000000; got '1010"),
    (["demo", "--repeats", "10" * 10], "argument --repeats: must be a positive integer up to 1000; got '1010"),
    (["bench", "--repeats", "1001"], "argument --repeats: must be a positive integer up to 1000; got '1001'"),
    (["train", "digits", "--test-size", "3"], "argument --test-size: must be a fraction between 0 and 1"),
    (["train", "digits", "--seed", "-1"], "argument --seed: must be a non-negative integer"),
    (["train", "digits", "--save", "/no/such/folder/m.npz"], "argument --save: cannot write"),
    (["demo", "--plot", "curve.txt"], "argument --plot: must be a .png file name"),
    (["bench", "--problems", "mnist,nope"], "argument --problems: must be comma-separated names"),
])
def test_bad_options_are_refused_while_parsing(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_bench_json(tmp_path, capsys):
    path = tmp_path / "bench.json"
    argv = ["bench", "--problems", "article", "--backends", "loops,vectorized", "--dtypes", "float64",
            "--repeats", "1", "--no-progress", "--json", str(path)]
    assert main(argv) == 0
    data = json.loads(path.read_text())
    assert {r["backend"] for r in data["results"]} == {"loops", "vectorized"}
    assert all(r["seconds"] > 0 and r["gflops"] > 0 for r in data["results"])
    # What a reader needs to interpret the figures: rounds, load before the run, the network
    assert data["rounds"] == 1 and data["load_average_before"] >= 0
    assert data["problems"] == {"article": {"layer_sizes": [3, 3, 2], "batch": 2,
                                            "activations": ["sigmoid", "sigmoid"], "loss": "sse",
                                            "fit_steps": 1000}}
    assert "vs NumPy" in capsys.readouterr().out


def test_bench_without_a_loops_backend_prints_a_table(capsys):
    argv = ["bench", "--problems", "article", "--backends", "vectorized", "--dtypes", "float64",
            "--repeats", "1", "--no-progress"]
    assert main(argv) == 0
    assert "article  float64  vectorized" in capsys.readouterr().out


def test_bench_article_parallel_only_says_why_nothing_ran(capsys):
    """Regression: it said "none of the chosen backends is installed"; loops-parallel is, but the
    article's fit runs bpfast.tiny at any thread count, so the bench leaves it out."""
    argv = ["bench", "--problems", "article", "--backends", "loops-parallel", "--dtypes", "float64",
            "--repeats", "1", "--no-progress"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "loops-parallel is left out for article" in err and "not installed" not in err


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="reads /proc: Linux only")
def test_bench_memory_measures_a_fit_in_a_fresh_process_within_1_2x_of_need(capsys):
    """The peak of a fit covers at least z and a of the non-input units and the gradients it
    holds (a lower bound that cannot be met by measuring nothing), and at most 1.2x that (#3's
    target; z holds no input units and the work space a panel of them: measured 1.06-1.11 in
    float64 at MNIST size, 1.43-1.48 before), and `bench --memory` prints it."""
    spec = PROBLEMS["mnist"]
    params = sum(a * b + b for a, b in zip(spec.layer_sizes[:-1], spec.layer_sizes[1:]))
    for dtype, item in (("float32", 4), ("float64", 8)):
        m = fit_memory("mnist", dtype)
        assert m["need"] == 2 * params * item + spec.batch * (2 * sum(spec.layer_sizes) - spec.layer_sizes[0]) * item
        assert 0.9 < m["ratio"] <= (1.2 if dtype == "float64" else 1.3), dtype   # float32: half the pages, noisier
    argv = ["bench", "--problems", "mnist", "--backends", "vectorized", "--dtypes", "float32",
            "--repeats", "1", "--no-progress", "--memory"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "mnist    float32        1" in out and "mnist    float32        2" in out


def test_train_on_a_binary_file_names_it(tmp_path, capsys):
    path = tmp_path / "image.csv"
    path.write_bytes(b"\xff\xfe\x00\x01")
    assert main(["train", str(path), "--no-progress"]) == 2
    assert "image.csv: expected a UTF-8 text CSV file" in capsys.readouterr().err


def test_train_save_reports_the_file_it_wrote(tmp_path, capsys):
    stem = tmp_path / "m2"
    assert main(["train", "digits", "--epochs", "1", "--no-progress", "--save", str(stem)]) == 0
    assert f"saved the trained network to {stem}.npz" in capsys.readouterr().out
    assert (tmp_path / "m2.npz").exists()


def test_bench_memory_without_the_big_problems_says_so(capsys):
    argv = ["bench", "--problems", "article", "--backends", "vectorized", "--dtypes", "float64",
            "--repeats", "1", "--no-progress", "--memory"]
    assert main(argv) == 0
    assert "--memory measures mnist and large" in capsys.readouterr().out


def test_train_target_that_looks_like_a_number_names_a_column_if_no_index_matches(tmp_path, capsys):
    """Found by a fresh-clone trial: --target 2020 was always read as an index, and the error
    said only that the index was out of range."""
    path = _csv(tmp_path, "a,b,2020\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n")
    assert main(["train", path, "--target", "2020", "--epochs", "1", "--no-progress"]) == 0
    assert "4 samples, 2 features, 2 classes" in capsys.readouterr().out     # the column named 2020
    assert main(["train", path, "--target", "7", "--epochs", "1", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "target index must be in [-3, 2] for" in err and "no column is named '7' either" in err


def test_cli_warnings_print_as_one_line(tmp_path):
    """Found by a fresh-clone trial: `bpfast explain --model diverged.npz` printed the warning with
    a file name and a line of bpfast's source under it; it is now one line, like the errors."""
    import subprocess
    import sys
    net = MLP([3, 3, 2], activation="identity", init="uniform", seed=16)
    with pytest.warns(RuntimeWarning, match="NaN or inf"), np.errstate(over="ignore", invalid="ignore"):
        net.fit(ARTICLE_X, ARTICLE_Y, learning_rate=1e300, epochs=3)
    net.save(tmp_path / "diverged.npz")
    run = subprocess.run([sys.executable, "-W", "default", "-m", "bpfast.cli", "explain", "--model",
                          str(tmp_path / "diverged.npz")], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stderr == (f"bpfast explain: warning: {tmp_path / 'diverged.npz'} holds NaN or inf "
                          "parameters (saved after a fit that diverged?)\n")


def test_train_target_number_is_an_index_first_and_a_name_only_if_out_of_range(tmp_path, capsys):
    """Found by a second fresh-clone trial: any error of the index load (a string feature, a
    missing value) made --target 2 retry as a column name, or added 'no column is named' to it."""
    path = _csv(tmp_path, "a,2,b\n1,cat,0\n2,dog,1\n3,cat,0\n4,dog,1\n")
    assert main(["train", path, "--target", "2", "--epochs", "1", "--no-progress"]) == 2   # index 2: b
    err = capsys.readouterr().err
    assert "expected a number, got 'cat'" in err and "no column is named" not in err
    path = _csv(tmp_path, "a,b,c\n1,2,x\n3,,y\n")
    assert main(["train", path, "--target", "2", "--epochs", "1", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "missing value" in err and "no column is named" not in err
    assert main(["train", path, "--target", "\u00b2", "--epochs", "1", "--no-progress"]) == 2   # superscript 2
    assert "invalid literal" not in capsys.readouterr().err


def test_train_header_option_reads_a_header_of_numbers(tmp_path, capsys):
    """Found by a second fresh-clone trial: a header of numbers was inferred to be a data row
    (a third class '2' appeared) and bpfast train had no way to say otherwise."""
    path = _csv(tmp_path, "0,1,2\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(8)))
    assert main(["train", path, "--target", "2", "--epochs", "1", "--no-progress"]) == 0
    assert "9 samples, 2 features, 3 classes" in capsys.readouterr().out     # inferred: no header
    assert main(["train", path, "--target", "2", "--header", "yes", "--epochs", "1", "--no-progress"]) == 0
    assert "8 samples, 2 features, 2 classes" in capsys.readouterr().out
    assert main(["train", "digits", "--header", "no"]) == 2
    assert "--header is about a CSV file" in capsys.readouterr().err


def test_train_target_name_with_header_no_speaks_in_options(tmp_path, capsys):
    """Found by a fresh-clone trial: the CLI repeated load_csv's 'pass header=True'."""
    path = _csv(tmp_path, "y,a\n1,2\n3,4\n")
    assert main(["train", path, "--target", "y", "--header", "no"]) == 2
    err = capsys.readouterr().err
    assert "leave out --header no, or give the column's index" in err and "header=True" not in err
    assert main(["train", "digits", "--epochs", "1", "--no-progress"]) == 0
    assert ", 1 epoch\n" in capsys.readouterr().out
