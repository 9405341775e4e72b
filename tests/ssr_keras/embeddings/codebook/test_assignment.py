import numpy as np
import pytest

from ssr_keras.embeddings.codebook import CodebookAssignment


def _assignment():
    return CodebookAssignment("baco", np.array([[0, 1], [1, -1], [2, 0]]), np.array([1, 0, 1, 1]),
                              objective=[1.0, 2.5], params={"gamma": 0.1})


def test_sizes_and_fraction():
    a = _assignment()
    assert (a.num_users, a.num_items, a.num_user_codes, a.num_item_codes, a.num_rows) == (3, 4, 3, 2, 5)
    assert a.row_fraction == pytest.approx(5 / 7)
    assert a.num_secondary == 2
    assert a.codes("item").tolist() == [[1, -1], [0, -1], [1, -1], [1, -1]]


def test_json_and_npz_round_trips(tmp_path):
    a = _assignment()
    b = CodebookAssignment.from_json(a.to_json())
    assert a == b and b.objective == [1.0, 2.5] and b.params == {"gamma": 0.1}
    a.save_npz(tmp_path / "codes.npz")
    c = CodebookAssignment.load_npz(tmp_path / "codes.npz")
    assert a == c and c.objective == a.objective and c.params == a.params


@pytest.mark.parametrize("users,items,match", [
    ([[0, 0]], [0], "secondary code must differ"),
    ([[0, 5]], [0], r"user_codes\[:, 1\]"),
    ([[-2, -1]], [0], r"user_codes\[:, 0\]"),
    ([[0, -1]], [[0]], r"item_codes.*shape \(1, 1\)"),
])
def test_invalid_codes(users, items, match):
    with pytest.raises(ValueError, match=match):
        CodebookAssignment("x", np.array(users), np.array(items), num_user_codes=2 if match != "x" else None)
