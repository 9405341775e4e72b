"""`GateSIDRankingModel`: a history-aware CTR model with ID and semantic-ID item embeddings (GateSID)."""

from __future__ import annotations

from typing import Any, Dict, Mapping, Sequence

import numpy as np
import tensorflow as tf
import tensorflow_recommenders as tfrs
import tf_keras as keras

from ssr_keras.data.ids import OOV_ID, PADDING_ID
from ssr_keras.embeddings.semantic_id import SemanticIdEmbedding
from ssr_keras.models import BACKBONES, build_backbone
from ssr_keras.models.ranking_history.gate_regulated_alignment import GateRegulatedAlignment
from ssr_keras.models.ranking_history.gating_fused_shared_attention import GatingFusedSharedAttention
from ssr_keras.models.ranking_history.maturity_gate import MaturityGate
from ssr_keras.models.traced_model import TracedStepsModel
from ssr_keras.validation import check_positive_int

MODES = ("id-only", "sid-only", "id+sid", "fixed-gate", "gatesid")
# What `MaturityGate` reads: GateSID's `[item ID embedding, maturity]`, or the maturity features alone.
GATE_INPUTS = ("embedding+maturity", "maturity")
FEATURES = ("user", "item", "history", "maturity")
LABEL = "label"


@keras.saving.register_keras_serializable(package="ssr_keras")
class GateSIDRankingModel(TracedStepsModel):
    """A CTR ranker over (user, target item, the user's history, the item's maturity), any backbone on top.

    Every item has two embeddings: an ID embedding (`num_known_items + 1` rows; ids beyond the known
    range and unknown ids use the `OOV_ID` row) and a semantic-ID embedding (`SemanticIdEmbedding`
    over the frozen RQ-VAE codes of every catalog id, so items first seen after training still get
    a content-based embedding). `mode` picks how they are combined:

    * `"id-only"` / `"sid-only"`: one stream; target attention over the history in that stream;
    * `"id+sid"`: the two embeddings summed into one stream;
    * `"fixed-gate"`: GFSA with `w = fixed_gate` and the alignment loss with that constant weight;
    * `"gatesid"`: `MaturityGate` on `[ID embedding, maturity]` drives GFSA and `GateRegulatedAlignment`.

    Inputs: `user` int `[B]` (unless `num_users` is None), `item` int `[B]`, `history` int `[B, N]`
    (padded with -1), `maturity` float `[B, num_maturity_features]`, and `user_stats` float
    `[B, num_user_stats]` when `num_user_stats > 0`.

    The backbone (`ssr_keras.models.build_backbone`, e.g. `"ssr-d"`) reads the concatenation
    `[user, user_stats, target embedding(s), attention output, maturity]`; a `Dense(1)` head gives the logit;
    the task is `tfrs.tasks.Ranking` (binary cross-entropy, AUC). The alignment loss (two-stream
    modes) is added in `compute_loss`; it skips items whose ID is `OOV_ID` (no ID embedding to align).

    Serving needs only raw features: `user`, `item` (catalog ids), `history` (catalog ids padded with
    -1) and `maturity` (see `ssr_keras.data.movielens_history.MATURITY_FEATURES`, computed from the
    item's past interactions upstream). Unknown ids fall back to OOV / fallback rows, an empty
    history attends to nothing (zeros); nothing raises at serving time.

    Args:
        num_users: rows of the user table (ids outside `[0, num_users)` use `OOV_ID`); None: no user
            embedding, the history alone represents the user (for data where most users are new).
        num_known_items: item ids `1..num_known_items` have an ID embedding row.
        sid_table / codebook_sizes: catalog id -> SID codes, as in `SemanticIdEmbedding`.
        mode: one of `MODES`.
        num_maturity_features: width of the `maturity` input.
        num_user_stats: width of an optional float `user_stats` input (0: not used), e.g.
            `ssr_keras.data.movielens_history.USER_STATS_FEATURES`; it joins the backbone input.
        sid_level_dim: width of each SID level's embedding; the ID embedding has `L * sid_level_dim`.
        user_dim: width of the user embedding.
        attention_dim: key dim of the attention projections.
        gate_units: hidden widths of `MaturityGate`.
        fixed_gate: `w` of `"fixed-gate"`.
        gate_inputs: one of `GATE_INPUTS`: `"maturity"` keeps the ID embedding out of the gate, so `w`
            is a function of the item's age, exposures and clicks only (an unseen item's ID embedding
            is the shared OOV row, or an untrained one).
        gate_supervision: weight of a weak auxiliary loss on the learned gate (`"gatesid"`): binary
            cross-entropy of `w` against "the item is young" (`maturity[:, 0]`, log1p of its age in
            days, below `log1p(young_days)`), pushing young items towards the semantic stream. 0: off.
        young_days: the age under which `gate_supervision` calls an item young.
        alignment_weight / temperature: `lambda` and `tau` of the alignment loss.
        backbone / backbone_config: see `ssr_keras.models.build_backbone`.
        embedding_l2: L2 penalty on the ID and user tables.

    Example:

    >>> table = np.array([[-1, -1], [0, 1], [1, 0], [1, 1]])
    >>> model = GateSIDRankingModel(num_users=3, num_known_items=2, sid_table=table, codebook_sizes=2,
    ...                             backbone="dnn", backbone_config={"hidden_units": [8]}, sid_level_dim=4)
    >>> features = {"user": tf.constant([1, 2]), "item": tf.constant([3, 1]),
    ...             "history": tf.constant([[1, 2, -1], [-1, -1, -1]]), "maturity": tf.zeros([2, 4])}
    >>> model(features).shape
    TensorShape([2, 1])

    Reference: Zhu et al., "GateSID", arXiv 2603.22916.
    """

    def __init__(self, num_users: int | None, num_known_items: int, sid_table, codebook_sizes: int | Sequence[int],
                 mode: str = "gatesid", num_maturity_features: int = 4, num_user_stats: int = 0,
                 sid_level_dim: int = 16,
                 user_dim: int = 16, attention_dim: int = 32, gate_units: Sequence[int] = (32,),
                 fixed_gate: float = 0.5, gate_inputs: str = "embedding+maturity", gate_supervision: float = 0.0,
                 young_days: float = 30.0, alignment_weight: float = 0.1,
                 temperature: float = 0.1,
                 backbone: str = "ssr-d", backbone_config: Mapping[str, Any] | None = None,
                 embedding_l2: float = 0.0, **kwargs) -> None:
        super().__init__(**kwargs)
        if mode not in MODES:
            raise ValueError(f"`mode` must be one of {MODES}. Received: mode={mode!r}")
        if backbone not in BACKBONES:
            raise ValueError(f"`backbone` must be one of {BACKBONES}. Received: backbone={backbone!r}")
        if not 0.0 <= fixed_gate <= 1.0:
            raise ValueError(f"`fixed_gate` must be in [0, 1]. Received: fixed_gate={fixed_gate!r}")
        self.num_users = None if num_users is None else check_positive_int("num_users", num_users)
        self.num_known_items = check_positive_int("num_known_items", num_known_items)
        self.mode = mode
        self.num_maturity_features = check_positive_int("num_maturity_features", num_maturity_features)
        if isinstance(num_user_stats, bool) or not isinstance(num_user_stats, int) or num_user_stats < 0:
            raise ValueError(f"`num_user_stats` must be an integer >= 0. Received: num_user_stats={num_user_stats!r}")
        self.num_user_stats = num_user_stats
        self.sid_level_dim = check_positive_int("sid_level_dim", sid_level_dim)
        self.user_dim = check_positive_int("user_dim", user_dim)
        self.attention_dim = check_positive_int("attention_dim", attention_dim)
        self.gate_units = [int(u) for u in gate_units]
        self.fixed_gate = float(fixed_gate)
        if gate_inputs not in GATE_INPUTS:
            raise ValueError(f"`gate_inputs` must be one of {GATE_INPUTS}. Received: gate_inputs={gate_inputs!r}")
        self.gate_inputs = gate_inputs
        if not gate_supervision >= 0 or not young_days > 0:
            raise ValueError(f"`gate_supervision` must be >= 0 and `young_days` > 0. Received: gate_supervision="
                             f"{gate_supervision!r}, young_days={young_days!r}")
        self.gate_supervision = float(gate_supervision)
        self.young_days = float(young_days)
        self.alignment_weight = float(alignment_weight)
        self.temperature = float(temperature)
        self.backbone_name = backbone
        self.backbone_config = dict(backbone_config or {})
        self.embedding_l2 = float(embedding_l2)

        self.sid_embedding = SemanticIdEmbedding(sid_table, codebook_sizes, embedding_dim=sid_level_dim,
                                                 name="sid_embedding")
        self.item_dim = self.sid_embedding.output_dim
        regularizer = keras.regularizers.L2(embedding_l2) if embedding_l2 else None
        self.item_embedding = keras.layers.Embedding(self.num_known_items + 1, self.item_dim,
                                                     embeddings_regularizer=regularizer, name="item_embedding")
        self.user_embedding = (None if self.num_users is None else keras.layers.Embedding(
            self.num_users, user_dim, embeddings_regularizer=regularizer, name="user_embedding"))
        self.attention = GatingFusedSharedAttention(attention_dim, name="gfsa")
        self.gate = MaturityGate(self.gate_units, name="maturity_gate") if mode == "gatesid" else None
        self.alignment = (GateRegulatedAlignment(alignment_weight, temperature, name="alignment")
                          if mode in ("fixed-gate", "gatesid") else None)
        self.backbone = build_backbone(backbone, **self.backbone_config)
        self.head = keras.layers.Dense(1, name="logit")
        self.task = tfrs.tasks.Ranking(
            loss=keras.losses.BinaryCrossentropy(from_logits=True),
            metrics=[keras.metrics.AUC(name="auc", from_logits=True)])

    def _known_item_ids(self, ids: tf.Tensor) -> tf.Tensor:
        known = tf.logical_and(ids >= 1, ids <= self.num_known_items)
        return tf.where(known, ids, tf.cast(OOV_ID, ids.dtype))

    def encode(self, features: Mapping[str, tf.Tensor], training: bool | None = None) -> Dict[str, tf.Tensor]:
        """The backbone input `x`, the gate `w` `[B, 1]` and the target embeddings `e_id`, `e_sid`."""
        required = [k for k in FEATURES if k != "user" or self.num_users is not None]
        missing = [k for k in required + (["user_stats"] if self.num_user_stats else []) if k not in features]
        if missing:
            raise ValueError(f"`features` must have {FEATURES}. Received keys: {sorted(features)}")
        item = tf.cast(features["item"], tf.int64)
        history = tf.cast(features["history"], tf.int64)
        maturity = tf.cast(features["maturity"], tf.float32)
        mask = tf.not_equal(history, PADDING_ID)
        e_id = self.item_embedding(self._known_item_ids(item))
        h_id = self.item_embedding(self._known_item_ids(history)) * tf.cast(mask, tf.float32)[..., tf.newaxis]
        e_sid = self.sid_embedding(item)
        h_sid = self.sid_embedding(history)
        batch = tf.shape(item)[0]
        if self.mode == "gatesid":
            gate = self.gate([e_id if self.gate_inputs == "embedding+maturity" else e_id[:, :0], maturity])
        else:
            value = {"id-only": 0.0, "sid-only": 1.0, "id+sid": 0.0, "fixed-gate": self.fixed_gate}[self.mode]
            gate = tf.fill([batch, 1], value)
        if self.mode in ("fixed-gate", "gatesid"):
            attended = self.attention({"query_sid": e_sid, "query_id": e_id, "history_sid": h_sid,
                                       "history_id": h_id, "gate": gate, "history_mask": mask})
            targets = [e_id, e_sid]
        else:
            stream = {"id-only": (e_id, h_id), "sid-only": (e_sid, h_sid),
                      "id+sid": (e_id + e_sid, h_id + h_sid)}[self.mode]
            attended = self.attention({"query_sid": stream[0], "query_id": stream[0], "history_sid": stream[1],
                                       "history_id": stream[1], "gate": gate, "history_mask": mask})
            attended = attended[:, :self.item_dim]  # both halves are the same single stream
            targets = [stream[0]]
        users = []
        if self.user_embedding is not None:
            user = tf.cast(features["user"], tf.int64)
            user = tf.where(tf.logical_and(user >= 0, user < self.num_users), user, tf.cast(OOV_ID, tf.int64))
            users = [self.user_embedding(user)]
        if self.num_user_stats:
            users.append(tf.cast(features["user_stats"], tf.float32))
        x = tf.concat(users + targets + [attended, maturity], axis=-1)
        return {"x": x, "gate": gate, "e_id": e_id, "e_sid": e_sid}

    def logits(self, features: Mapping[str, tf.Tensor], training: bool | None = None) -> tf.Tensor:
        encoded = self.encode(features, training=training)
        return self.head(self.backbone(encoded["x"], training=training))

    def call(self, features: Mapping[str, tf.Tensor], training: bool | None = None) -> tf.Tensor:
        return tf.sigmoid(self.logits(features, training=training))

    def compute_loss(self, inputs, training: bool = False) -> tf.Tensor:
        if isinstance(inputs, (tuple, list)):
            features, labels = inputs[0], inputs[1]
        else:
            features, labels = inputs, inputs[LABEL]
        encoded = self.encode(features, training=training)
        logits = self.head(self.backbone(encoded["x"], training=training))
        loss = self.task(labels=tf.reshape(tf.cast(labels, tf.float32), [-1, 1]), predictions=logits)
        if self.gate_supervision and self.gate is not None:
            young = tf.cast(tf.cast(features["maturity"], tf.float32)[:, :1] < np.log1p(self.young_days), tf.float32)
            loss += self.gate_supervision * tf.reduce_mean(keras.losses.binary_crossentropy(young, encoded["gate"]))
        if self.alignment is not None:
            item = tf.cast(features["item"], tf.int64)
            known = tf.cast(tf.not_equal(self._known_item_ids(item), OOV_ID), tf.float32)
            loss += self.alignment({"sid": encoded["e_sid"], "id": encoded["e_id"], "gate": encoded["gate"],
                                    "candidate_ids": item, "sample_weight": known})
        return loss

    def get_config(self) -> dict:
        return {"name": self.name, "num_users": self.num_users, "num_known_items": self.num_known_items,
                "sid_table": self.sid_embedding.sid_table_values.tolist(),
                "codebook_sizes": list(self.sid_embedding.codebook_sizes), "mode": self.mode,
                "num_maturity_features": self.num_maturity_features, "num_user_stats": self.num_user_stats,
                "sid_level_dim": self.sid_level_dim,
                "user_dim": self.user_dim, "attention_dim": self.attention_dim, "gate_units": self.gate_units,
                "fixed_gate": self.fixed_gate, "gate_inputs": self.gate_inputs,
                "gate_supervision": self.gate_supervision, "young_days": self.young_days,
                "alignment_weight": self.alignment_weight,
                "temperature": self.temperature, "backbone": self.backbone_name,
                "backbone_config": self.backbone_config, "embedding_l2": self.embedding_l2}

    @classmethod
    def from_config(cls, config: dict) -> GateSIDRankingModel:
        config = dict(config)
        config["sid_table"] = np.asarray(config["sid_table"], np.int64)
        return cls(**config)
