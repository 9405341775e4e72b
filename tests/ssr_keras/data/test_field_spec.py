import pytest

from ssr_keras.data import FieldSpec


def test_valid_spec():
    spec = FieldSpec("genres", vocab_size=21, max_len=6)
    assert spec.multivalent
    assert not FieldSpec("user", 10).multivalent


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"name": "", "vocab_size": 3}, "name must be a non-empty string"),
        ({"name": "user", "vocab_size": 0}, "'user': vocab_size must be an int >= 1. Received: 0"),
        ({"name": "user", "vocab_size": 2.5}, "vocab_size must be an int >= 1. Received: 2.5"),
        ({"name": "user", "vocab_size": True}, "vocab_size must be an int >= 1. Received: True"),
        ({"name": "genres", "vocab_size": 5, "max_len": 0}, "'genres': max_len must be an int >= 1"),
    ],
)
def test_invalid_spec_names_field_and_argument(kwargs, message):
    with pytest.raises(ValueError, match=message):
        FieldSpec(**kwargs)


def test_a_layout_field_gets_its_id_range_later():
    field = FieldSpec("genres", max_len=6)
    assert field.vocab_size is None
    assert field.with_vocab_size(21) == FieldSpec("genres", 21, 6)
