"""The one id scheme of ssr-keras: how a field's raw values become the int64 ids every model takes.

Every path that turns values into ids follows it: the `tf.data` readers (`Vocabularies` +
`FieldLookup`), the TFX Transform (`pipeline/transform.py`), the exported serving graphs, and every
table keyed by ids (embedding rows, codebook maps, semantic-ID tables, per-item counts):

* id `OOV_ID` = 0 is the out-of-vocabulary bucket: a value unseen in training (or seen fewer than
  `min_count` times);
* known values get ids 1..n, the most frequent value first (ties by value), so a field has
  `vocab_size = n + NUM_OOV_BUCKETS` ids;
* in a multivalent field (`[B, max_len]`) the padding value `""` gets `PADDING_ID` = -1, which no
  table row has: embedders mask it.

The TFX vocabulary of a field is the file `vocabulary_name(field)` of the Transform output, in the
same order, so a SavedModel trained by `ssr-train` and one trained by the pipeline read the same raw
`tf.Example`s and give a value the same id.

Example:

>>> OOV_ID, PADDING_ID, NUM_OOV_BUCKETS
(0, -1, 1)
>>> vocabulary_name("user")
'vocab_user'
"""

OOV_ID = 0
PADDING_ID = -1
NUM_OOV_BUCKETS = 1
# What a multivalent field's padding positions hold before lookup.
PADDING_VALUE = ""


def vocabulary_name(field_name: str) -> str:
    """The name of `field_name`'s vocabulary (a Transform vocabulary file, a `Vocabularies` key)."""
    return f"vocab_{field_name}"


def vocab_size(num_known_values: int) -> int:
    """Ids of a field with `num_known_values` known values: the values plus the OOV bucket."""
    return num_known_values + NUM_OOV_BUCKETS
