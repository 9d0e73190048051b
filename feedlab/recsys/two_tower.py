"""Dual-encoder (two-tower) recommenders in TensorFlow / Keras 3.

Towers: MLP 128 -> 64 -> 32 (ReLU, linear output), L2-normalised, score = dot product.
User input: the user's mean normalised value (watch ratio) per topic; item input: one-hot topic, standardised
length and log-popularity. Two training schemes:

* ``two_tower_mse`` (the seed's model): features only, MSE between the dot product and the interaction's
  normalised value scaled to [-1, 1], Adam, batch 128, 5 epochs. It learns to predict how much a user watches,
  not what a user picks, and ranks poorly.
* ``two_tower``: the same towers plus learned user and item ID embeddings, trained as a retriever with an
  in-batch sampled softmax (temperature, logQ popularity correction, same-item collisions masked).

Determinism without global state: no global seeders are called and op determinism is not enabled (it is a
process-wide switch that would change other TensorFlow code sharing the process). Instead every initializer has
an explicit seed, batches come from a seeded ``numpy.random.Generator``, and no op draws random numbers while
training (no dropout), and XLA is not used. On CPU the ops used (dense matmul, gather, Adam) then give identical
results run to run and process to process in one environment (same machine type and library versions; a CPU
with other vector instructions may round differently); the tests check two runs bit for bit. Each epoch visits
the rows in a fresh seeded order and drops the last ``n_rows % batch_size`` of them (fixed batch shapes).
TensorFlow is imported on first use.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd

from feedlab.recsys.common import (Interactions, all_cores, check_count, check_k, encode, interaction_matrix,
                                   recs_frame, run_info, servable_columns, top_k_unseen, user_codes)
from feedlab.recsys.features import item_topics, normalised_value

TOWER_UNITS = (128, 64, 32)


@dataclass(frozen=True)
class TowerInputs:
    """Dense side features, float32, over S = T + 1 topic slots (the T known topics, then one for an unknown
    topic): ``user`` of shape (n_users, S) and ``item`` of shape (n_items, S + 2); ``target`` of shape (n_rows,)
    is the normalised value in [0, 1] of each interaction."""

    user: np.ndarray
    item: np.ndarray
    target: np.ndarray


def tower_inputs(enc: Interactions, items: pd.DataFrame | None) -> TowerInputs:
    """User per-topic mean normalised value; item one-hot topic, standardised length and log1p popularity."""
    topic, length = item_topics(enc, items)
    n_topics = int(topic.max()) + 2  # last slot: unknown topic
    topic_code = topic % n_topics
    norm = normalised_value(enc, length)
    key = enc.user.astype(np.int64) * n_topics + topic_code[enc.item]
    counts = np.bincount(key, minlength=enc.n_users * n_topics)
    sums = np.bincount(key, weights=norm, minlength=enc.n_users * n_topics)
    user = (sums / np.maximum(counts, 1)).reshape(enc.n_users, n_topics)
    one_hot = np.eye(n_topics)[topic_code]
    log_pop = np.log1p(np.bincount(enc.item, minlength=enc.n_items).astype(np.float64))
    item = np.column_stack([one_hot, _standardise(length), _standardise(log_pop)])
    return TowerInputs(user.astype(np.float32), item.astype(np.float32), norm.astype(np.float32))


def _standardise(x: np.ndarray) -> np.ndarray:
    """Zero mean, unit variance over finite entries; NaN (unknown) becomes 0, the mean."""
    finite = np.isfinite(x)
    if not finite.any():
        return np.zeros_like(x)
    mu, sd = x[finite].mean(), x[finite].std()
    return np.where(finite, (x - mu) / (sd if sd > 0 else 1.0), 0.0)


def _tf() -> Any:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    return tf


class DualEncoder:
    """User and item towers over fixed side features, optionally with ID embeddings of size ``id_dim``."""

    def __init__(self, inputs: TowerInputs, id_dim: int, seed: int) -> None:
        tf = _tf()
        import keras

        self._tf = tf
        self.user_x = tf.constant(inputs.user)
        self.item_x = tf.constant(inputs.item)
        self.user_id = self.item_id = None
        if id_dim:
            self.user_id = _embedding(keras, len(inputs.user), id_dim, seed)
            self.item_id = _embedding(keras, len(inputs.item), id_dim, seed + 1)
        self.user_mlp = _mlp(keras, seed + 2)
        self.item_mlp = _mlp(keras, seed + 2 + len(TOWER_UNITS))
        self.users(tf.constant([0]))
        self.items(tf.constant([0]))
        layers = [self.user_mlp, self.item_mlp] + [e for e in (self.user_id, self.item_id) if e is not None]
        self.variables = [v for layer in layers for v in layer.trainable_variables]

    def users(self, idx: Any) -> Any:
        """L2-normalised embeddings of shape (len(idx), 32) of user codes ``idx``."""
        return self._encode(self.user_x, self.user_id, self.user_mlp, idx)

    def items(self, idx: Any) -> Any:
        """L2-normalised embeddings of shape (len(idx), 32) of item codes ``idx``."""
        return self._encode(self.item_x, self.item_id, self.item_mlp, idx)

    def _encode(self, side: Any, ids: Any, mlp: Any, idx: Any) -> Any:
        tf = self._tf
        x = tf.gather(side, idx)
        if ids is not None:
            x = tf.concat([x, ids(idx)], axis=1)
        return tf.math.l2_normalize(mlp(x), axis=1)

    def embed_all(self) -> tuple[np.ndarray, np.ndarray]:
        """Embeddings of every user (n_users, 32) and item (n_items, 32), float32."""
        tf = self._tf
        n_users, n_items = int(self.user_x.shape[0]), int(self.item_x.shape[0])
        return self.users(tf.range(n_users)).numpy(), self.items(tf.range(n_items)).numpy()


def _embedding(keras: Any, n: int, dim: int, seed: int) -> Any:
    return keras.layers.Embedding(n, dim, embeddings_initializer=keras.initializers.RandomNormal(stddev=0.05,
                                                                                                seed=seed))


def _mlp(keras: Any, seed: int) -> Any:
    layers = []
    for j, units in enumerate(TOWER_UNITS):
        last = j == len(TOWER_UNITS) - 1
        layers.append(keras.layers.Dense(units, activation=None if last else "relu",
                                         kernel_initializer=keras.initializers.GlorotUniform(seed=seed + j)))
    return keras.Sequential(layers)


def step_schedule(n_rows: int, batch_size: int, epochs: int, max_steps: int) -> tuple[int, int]:
    """``(epochs, batches per epoch)`` for ``n_rows`` rows: at most ``epochs`` whole passes and ``max_steps`` batches.

    Whole passes while one fits in ``max_steps``; otherwise a single partial pass of ``max_steps`` batches (the first
    batches of a seeded shuffle, i.e. a uniform sample of rows), so that the cost stays bounded however many rows
    there are.
    """
    per_epoch = max(1, n_rows // check_count("batch_size", batch_size))
    whole_passes = check_count("max_steps", max_steps) // per_epoch
    epochs = check_count("epochs", epochs)
    if whole_passes >= 1:
        return min(epochs, whole_passes), per_epoch
    return 1, max_steps


def _epoch_batches(rng: np.random.Generator, n_rows: int, batch_size: int, n_batches: int | None = None) -> np.ndarray:
    """Shuffled row indices of one epoch as shape (n_batches, batch_size): by default every whole batch (the ragged
    tail is dropped), else the first ``n_batches`` of them."""
    whole = max(1, n_rows // batch_size)
    n_batches = whole if n_batches is None else min(n_batches, whole)
    perm = rng.permutation(n_rows)
    if n_rows < batch_size:
        perm = np.resize(perm, batch_size)
    return perm[: n_batches * batch_size].reshape(n_batches, batch_size)


def train_mse(model: DualEncoder, enc: Interactions, target: np.ndarray, epochs: int, batch_size: int,
              learning_rate: float, seed: int) -> None:
    """Fit the dot product to ``2 * target - 1`` (target in [0, 1], shape (n_rows,)) with MSE."""
    tf = _tf()
    users, items = tf.constant(enc.user), tf.constant(enc.item)
    y = tf.constant(2.0 * target - 1.0, dtype=tf.float32)

    def loss_fn(batch: Any) -> Any:
        pred = tf.reduce_sum(model.users(tf.gather(users, batch)) * model.items(tf.gather(items, batch)), axis=1)
        return tf.reduce_mean(tf.square(pred - tf.gather(y, batch)))

    _fit(model, loss_fn, enc.n_rows, epochs, batch_size, learning_rate, seed)


def train_softmax(model: DualEncoder, enc: Interactions, epochs: int, batch_size: int, learning_rate: float,
                  temperature: float, logq: bool, seed: int, batches_per_epoch: int | None = None) -> None:
    """In-batch sampled softmax: each row's item is the positive, the batch's other items the negatives.

    Logits are cosine / ``temperature``; with ``logq`` the log of each item's training frequency is subtracted
    (sampled-softmax correction, Yi et al. 2019); other rows of the same item are masked out of the negatives.
    """
    tf = _tf()
    users, items = tf.constant(enc.user), tf.constant(enc.item)
    freq = np.bincount(enc.item, minlength=enc.n_items) / enc.n_rows
    log_q = tf.constant(np.log(freq) if logq else np.zeros(enc.n_items), dtype=tf.float32)

    def loss_fn(batch: Any) -> Any:
        u, i = tf.gather(users, batch), tf.gather(items, batch)
        logits = tf.matmul(model.users(u), model.items(i), transpose_b=True) / temperature
        logits -= tf.gather(log_q, i)[None, :]
        collision = tf.equal(i[:, None], i[None, :]) & ~tf.eye(tf.shape(i)[0], dtype=tf.bool)
        logits = tf.where(collision, tf.constant(-1e9, tf.float32), logits)
        labels = tf.range(tf.shape(i)[0])
        return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))

    _fit(model, loss_fn, enc.n_rows, epochs, batch_size, learning_rate, seed, batches_per_epoch)


def _fit(model: DualEncoder, loss_fn: Any, n_rows: int, epochs: int, batch_size: int, learning_rate: float,
         seed: int, batches_per_epoch: int | None = None) -> None:
    """Adam over ``epochs`` seeded shuffles (their first ``batches_per_epoch`` batches when given); each epoch runs
    as one compiled graph loop over its batches.

    Graph mode without XLA: on these small towers XLA's ~2 s compile costs more than its faster steps save.
    """
    tf = _tf()
    import keras

    opt = keras.optimizers.Adam(learning_rate)
    opt.build(model.variables)

    @tf.function
    def run_epoch(batches: Any) -> None:
        for s in tf.range(tf.shape(batches)[0]):
            with tf.GradientTape() as tape:
                loss = loss_fn(batches[s])
            opt.apply(tape.gradient(loss, model.variables), model.variables)

    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        run_epoch(tf.constant(_epoch_batches(rng, n_rows, batch_size, batches_per_epoch)))


def _recommend(policy: str, train: pd.DataFrame, users: Any, k: int, items: pd.DataFrame | None, servable: Any,
               id_dim: int, fit: Callable[[DualEncoder, Interactions, TowerInputs], None],
               params: dict[str, Any]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Shared pipeline: encode, build towers, ``fit`` them, embed everything, rank unseen items by dot product."""
    k = check_k(k)
    started = time.perf_counter()
    enc = encode(train)
    rows = user_codes(enc, users)
    inputs = tower_inputs(enc, items)
    model = DualEncoder(inputs, id_dim, params["random_state"])
    fit(model, enc, inputs)
    user_emb, item_emb = model.embed_all()
    trained = time.perf_counter()
    seen = interaction_matrix(enc, "binary")
    row, col, score = top_k_unseen(lambda r: user_emb[r] @ item_emb.T, seen, rows, k,
                                   servable_columns(enc, servable), n_jobs=all_cores())
    return recs_frame(policy, enc, row, col, score), run_info(policy, enc, len(rows), started, trained, params)


def recommend_two_tower_mse(train: pd.DataFrame, users: Any, k: int = 10, *, items: pd.DataFrame | None = None,
                            servable: Any = None, epochs: int = 5, batch_size: int = 128, learning_rate: float = 1e-3,
                            random_state: int = 42) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Top-``k`` unseen items per user from the seed's feature-only dual encoder trained with MSE.

    Parameters
    ----------
    train : DataFrame of shape (n_rows, >=4)
        ``user_id`` int64, ``item_id`` int64, ``event_at`` datetime64, ``value`` float64.
    users : array-like of shape (n_users_scored,), int64
        Users to rank for; each must have training rows.
    k : int
    items : DataFrame, optional
        ``item_id``, ``topic_id``, ``length_s``. The value is normalised as watch ratio (value / length_s) when
        every training item has a positive length, else min-max scaled over the training rows.
    servable : array-like of shape (n_servable,), int64, optional
        The only item ids that may be recommended (all when None).
    epochs, batch_size, learning_rate : int, int, float
        Adam training schedule.
    random_state : int
        Seeds initializers and batch shuffling.

    Returns
    -------
    recs : DataFrame of shape (sum over users of min(k, unseen items), 5)
        ``policy`` str, ``user_id`` int64, ``item_id`` int64, ``rank`` int32, ``score`` float64 (cosine).
    info : dict
        See :func:`feedlab.recsys.common.run_info`.
    """
    epochs, batch_size = check_count("epochs", epochs), check_count("batch_size", batch_size)
    params = {"epochs": epochs, "batch_size": batch_size, "learning_rate": learning_rate,
              "random_state": random_state, "k": k, "loss": "mse"}

    def fit(model: DualEncoder, enc: Interactions, inputs: TowerInputs) -> None:
        train_mse(model, enc, inputs.target, epochs, batch_size, learning_rate, random_state)

    return _recommend("two_tower_mse", train, users, k, items, servable, 0, fit, params)


def recommend_two_tower(train: pd.DataFrame, users: Any, k: int = 10, *, items: pd.DataFrame | None = None,
                        servable: Any = None, epochs: int = 10, max_steps: int = 2000, batch_size: int = 512,
                        learning_rate: float = 3e-3, temperature: float = 0.1, logq: bool = True,
                        id_dim: int = 32, random_state: int = 42) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Top-``k`` unseen items per user from a dual encoder with ID embeddings and an in-batch softmax loss.

    Parameters
    ----------
    train, users, k, items, servable :
        As in :func:`recommend_two_tower_mse`.
    epochs, max_steps, batch_size, learning_rate : int, int, int, float
        Adam training schedule: ``epochs`` passes, reduced to whole passes within ``max_steps`` batches, or to one
        partial pass of ``max_steps`` batches when a whole pass has more (:func:`step_schedule`), so that large
        inputs keep a bounded cost; the batch is also the negative sample.
    temperature : float
        Softmax temperature on the cosine logits.
    logq : bool
        Subtract log item frequency from the logits (corrects in-batch negatives' popularity bias).
    id_dim : int
        Size of the user and item ID embeddings concatenated to the side features.
    random_state : int
        Seeds initializers and batch shuffling.

    Returns
    -------
    recs, info :
        As in :func:`recommend_two_tower_mse`.
    """
    epochs, batches_per_epoch = step_schedule(len(train), batch_size, epochs, max_steps)
    params = {"epochs": epochs, "max_steps": max_steps, "steps": epochs * batches_per_epoch, "batch_size": batch_size,
              "learning_rate": learning_rate, "temperature": temperature, "logq": logq, "id_dim": id_dim,
              "random_state": random_state, "k": k, "loss": "in_batch_softmax"}

    def fit(model: DualEncoder, enc: Interactions, inputs: TowerInputs) -> None:
        train_softmax(model, enc, epochs, batch_size, learning_rate, temperature, logq, random_state,
                      batches_per_epoch)

    return _recommend("two_tower", train, users, k, items, servable, id_dim, fit, params)
