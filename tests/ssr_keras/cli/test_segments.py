"""`ssr-segments` on MovieLens-1M: trains a small compressed ELSA, prints segments with titles, reuses it."""

import pytest

from ssr_keras.cli import segments


@pytest.fixture(scope="module")
def saved(data_dir, tmp_path_factory):
    path = tmp_path_factory.mktemp("segments") / "items.npz"
    code = segments.main(["--data", str(data_dir / "movielens-1m"), "--factors", "16", "--nnz", "2",
                          "--final-epochs", "1", "--segments", "3", "--top", "2", "--save", str(path)])
    assert code == 0
    return path


def test_segments_and_recommendations_with_titles(saved, data_dir, capsys):
    capsys.readouterr()
    assert segments.main(["--data", str(data_dir / "movielens-1m"), "--items", str(saved), "--segments", "3",
                          "--top", "2", "--user", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "non-zeros per movie, 16 dimensions" in lines[0]
    assert sum(line.startswith("  segment") for line in lines) == 3 + 3
    assert lines[4].startswith("user 1 (53 movies)")
    assert any("(19" in line for line in lines[1:4])  # titles carry their year


def test_bad_input_is_one_line_and_exit_code_2(saved, data_dir, capsys):
    assert segments.main(["--data", str(data_dir / "movielens-1m"), "--items", str(saved), "--user", "999999"]) == 2
    assert "is not a MovieLens-1M user id" in capsys.readouterr().err
    assert segments.main(["--data", str(data_dir / "nowhere")]) == 2
