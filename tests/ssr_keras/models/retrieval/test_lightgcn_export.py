"""A LightGCN trained on real Beauty rows, exported as a top-k retriever: served top-k == in-process top-k."""

import numpy as np
import scipy.sparse as sp
import tensorflow as tf
import tf_keras as keras

from ssr_keras.analysis.retrieval_metrics import top_k_items
from ssr_keras.data.interactions import read_edge_splits
from ssr_keras.embeddings.codebook import fit_baco
from ssr_keras.embeddings.codebook.codebook_embedding import CodebookEmbedding
from ssr_keras.export import export_user_retriever
from ssr_keras.models.retrieval.bpr_training import bpr_dataset
from ssr_keras.models.retrieval.lightgcn import LightGCN


def test_served_top_k_of_a_baco_lightgcn_equals_in_process(tmp_path, data_dir):
    data = read_edge_splits(data_dir / "amazon-beauty")
    keras.utils.set_random_seed(0)
    assignment = fit_baco(data.train_edges, data.num_users, data.num_items, budget=0.25, seed=0)
    model = LightGCN(data.train, num_layers=2, embedding_dim=16,
                     user_embedder=CodebookEmbedding.from_assignment(assignment, "user", 16, id_offset=0),
                     item_embedder=CodebookEmbedding.from_assignment(assignment, "item", 16, id_offset=0))
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(bpr_dataset(data.train_edges, data.num_items, 1024, seed=0).take(5), verbose=0)

    users, items = (t.numpy() for t in model.embeddings())
    seen = data.train + data.valid
    path = export_user_retriever(users, items, seen, str(tmp_path / "1"), k=20)
    queried = np.array([0, 7, 123, data.num_users - 1])
    served = tf.saved_model.load(path).signatures["serving_default"](user_ids=tf.constant(queried, tf.int64))

    expected = top_k_items(users[queried] @ items.T, 20, exclude=sp.csr_matrix(seen)[queried])
    np.testing.assert_array_equal(served["item_ids"].numpy(), expected)
