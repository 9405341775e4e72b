"""`FieldSpec`: one categorical model input field, in a layout and in a model."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class FieldSpec:
    """One categorical model input: its name, id range and (for multivalent fields) padded length.

    A layout declares its fields without an id range (`vocab_size=None`: it is known only once the
    vocabularies are built); `Vocabularies.field_specs` (or the pipeline's Transform vocabularies)
    fills it in with `with_vocab_size`, and models take only fields that have one. Inputs follow the
    id scheme of `ssr_keras.data.ids`: int64 ids in `[0, vocab_size)` (the OOV bucket included in
    `vocab_size`), shape `[B]` for a single-valued field and `[B, max_len]` padded with -1 for a
    multivalent one.

    Args:
        name: the feature-dict key of this field.
        vocab_size: number of distinct ids, OOV bucket included (>= 1), or None when not known yet.
        max_len: 1 for a single-valued field, else the padded number of ids per example.

    Example:

    >>> FieldSpec("genres", max_len=6).with_vocab_size(21)
    FieldSpec(name='genres', vocab_size=21, max_len=6)
    >>> FieldSpec("genres", vocab_size=21, max_len=6).multivalent
    True
    """

    name: str
    vocab_size: int | None = None
    max_len: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"FieldSpec.name must be a non-empty string. Received: {self.name!r}")
        for attr, value in (("vocab_size", self.vocab_size), ("max_len", self.max_len)):
            if attr == "vocab_size" and value is None:
                continue
            # bool is an int subclass; a flag passed as a size is always a bug.
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"FieldSpec {self.name!r}: {attr} must be an int >= 1. Received: {value!r}")

    @property
    def multivalent(self) -> bool:
        """True when the field carries a padded list of ids per example."""
        return self.max_len > 1

    def with_vocab_size(self, vocab_size: int) -> FieldSpec:
        """This field with its id range known."""
        return dataclasses.replace(self, vocab_size=vocab_size)
