"""Segments: items grouped by their dominant signed dimension; segment scores x A Bᵀ."""

import numpy as np
import scipy.sparse as sp

from ssr_keras.embeddings.topk_sparse import TopKSparseEmbedding
from ssr_keras.models.retrieval.segments import item_segments, largest_segments, recommend_segments


def test_segments_group_items_by_dominant_signed_dimension():
    a = sp.csr_matrix(TopKSparseEmbedding(vocab_size=200, embedding_dim=16, k=3).to_csr())
    seg = item_segments(a)
    dense = a.toarray()
    for item in range(200):
        s = seg.item_segment[item]
        d = np.argmax(np.abs(dense[item]))
        assert seg.dimensions[s] == d and seg.signs[s] == np.sign(dense[item, d])
    assert seg.sizes.sum() == 200
    assert len(set(zip(seg.dimensions.tolist(), seg.signs.tolist()))) == len(seg.dimensions)
    # B has one ±1 per segment, at its dimension.
    np.testing.assert_array_equal(seg.matrix.toarray()[np.arange(len(seg.dimensions)), seg.dimensions], seg.signs)
    assert seg.matrix.nnz == len(seg.dimensions)


def test_largest_segments_and_their_top_items():
    a = np.array([[0.9, 0.1], [0.5, 0.0], [0.0, -1.0], [0.8, 0.3], [0.0, 0.0]])
    seg = item_segments(a)
    assert seg.item_segment.tolist() == [0, 0, 1, 0, -1]
    largest = largest_segments(seg, num_segments=1, top_n=2)
    assert largest == [{"segment": 0, "dimension": 0, "sign": 1, "size": 3, "top_items": [0, 3]}]


def test_recommend_segments_scores_x_a_bt_and_hides_own_items():
    a = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, -1.0], [0.1, -0.8]])
    seg = item_segments(a)
    x = sp.csr_matrix(np.array([[0, 0, 1, 0], [1, 0, 0, 0]], float))
    result = recommend_segments(x, a, seg, k=2, top_n=3)
    expected = (x @ a) @ seg.matrix.T.toarray()
    assert [e["score"] for e in result[0]] == sorted(expected[0], reverse=True)
    assert result[0][0]["dimension"] == 1 and result[0][0]["sign"] == -1
    assert result[0][0]["top_items"] == [3]  # item 2 is the user's own
    assert result[1][0]["top_items"] == [1]
