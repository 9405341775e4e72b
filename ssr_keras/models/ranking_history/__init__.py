"""Ranking with a user behaviour history and semantic IDs for cold-start items (GateSID, arXiv 2603.22916).

* `MaturityGate`: `w = sigmoid(MLP([item ID embedding, maturity features]))`;
* `GatingFusedSharedAttention`: `w * S_sid + (1 - w) * S_id` over the history, shared by both value streams;
* `GateRegulatedAlignment`: `lambda * mean_i w_i * InfoNCE(e_sid_i, e_id_i)` with in-batch negatives;
* `GateSIDRankingModel`: the TFRS model putting them together under any backbone (`MODES` for ablations).

Example:

>>> from ssr_keras.models.ranking_history import MODES
>>> MODES
('id-only', 'sid-only', 'id+sid', 'fixed-gate', 'gatesid')
"""

from ssr_keras.models.ranking_history.gate_regulated_alignment import GateRegulatedAlignment
from ssr_keras.models.ranking_history.gatesid_ranking_model import MODES, GateSIDRankingModel
from ssr_keras.models.ranking_history.gating_fused_shared_attention import GatingFusedSharedAttention
from ssr_keras.models.ranking_history.maturity_gate import MaturityGate

__all__ = ["MODES", "GateRegulatedAlignment", "GateSIDRankingModel", "GatingFusedSharedAttention", "MaturityGate"]
