"""Matrix factorisation for implicit feedback, through the ``implicit`` library.

- ``als``: alternating least squares on confidence-weighted preferences (Hu, Koren &
  Volinsky 2008): the interaction weights are the confidences, scaled by ``alpha``.
- ``bpr``: Bayesian personalised ranking (Rendle et al. 2009): pairs of an item a
  member has and one they have not, learned by stochastic gradient descent — on one
  thread, so the same seed gives the same model.

A member's score for an item is the dot product of their factors. The factors are
kept as NumPy arrays; scoring needs nothing from the library.
"""

from __future__ import annotations

import abc
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse
from threadpoolctl import threadpool_limits

from memberlens.recommend._algorithms import Recommender
from memberlens.recommend._batch import Floats32, Ints32, factor_top_k
from memberlens.recommend._interactions import Interactions
from memberlens.recommend._memory import ENTRY, Shape
from memberlens.recommend._reasons import reason

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


class _Factors(Recommender):
    """Members and items as vectors; a score is their dot product."""

    def __init__(self, factors: int = 64, iterations: int = 15, seed: int = 42) -> None:
        super().__init__()
        self.factors, self.iterations, self.seed = factors, iterations, seed
        self.user_factors: Floats = np.empty((0, factors))
        self.item_factors: Floats = np.empty((0, factors))

    def params(self) -> dict[str, object]:
        return {"factors": self.factors, "iterations": self.iterations, "seed": self.seed}

    def memory(self, shape: Shape) -> int:
        # factors (the library's float32 and our float64), the library's float32 copy
        # of the matrix and its transpose
        factors = (shape.users + shape.items) * self.factors * (4 + 8 + 8)
        return super().memory(shape) + factors + shape.records * ENTRY * 2

    @abc.abstractmethod
    def _model(self) -> Any:
        """The library's model, configured from this object's settings."""

    def fit(self, train: sparse.csr_matrix, data: Interactions) -> _Factors:
        super().fit(train, data)
        # implicit's own threads do the work; a threaded BLAS inside each would fight
        # them. The library checks this when a model is made, and the limit holds only
        # for libraries loaded before it is set: import first, then limit, then make.
        import implicit.cpu.als
        import implicit.cpu.bpr  # noqa: F401

        with threadpool_limits(limits=1, user_api="blas"):
            model = self._model()
            model.fit(train.astype(np.float32).tocsr(), show_progress=False)
        self.user_factors = np.asarray(model.user_factors, dtype=np.float64)
        self.item_factors = np.asarray(model.item_factors, dtype=np.float64)
        return self

    def scores(self, users: Ints) -> Floats:
        scored: Floats = self.user_factors[users] @ self.item_factors.T
        return scored

    def top_k_batch(
        self,
        users: Ints | None,
        k: int,
        *,
        exclude: sparse.csr_matrix | None = None,
    ) -> tuple[Ints32, Floats32]:
        """Each user's ``k`` best items and their scores for a whole member base, in
        float32 and bounded memory (:func:`~memberlens.recommend._batch.factor_top_k`).

        ``users=None`` scores every user; ``exclude`` has one row per user of the
        training matrix (``self.train`` leaves out what they already have). Unlike
        :meth:`recommend`, items scoring 0 or less stay in the lists; a list with fewer
        than ``k`` eligible items ends with item ``-1``, score ``-inf``.
        """
        self._fitted()
        return factor_top_k(
            self.user_factors,
            self.item_factors,
            k,
            exclude=exclude,
            users=users,
        )

    def explain(self, user: int, item: int) -> str:
        return reason("members_with_tastes_like_yours")


class Als(_Factors):
    name = "als"
    GRID = (
        {},
        {"factors": 32, "regularization": 0.5},
        {"factors": 16, "regularization": 1.0},
        {"factors": 8, "regularization": 10.0},
    )

    def __init__(
        self,
        factors: int = 64,
        iterations: int = 15,
        regularization: float = 0.05,
        alpha: float = 1.0,
        seed: int = 42,
    ) -> None:
        super().__init__(factors, iterations, seed)
        self.regularization, self.alpha = regularization, alpha

    def params(self) -> dict[str, object]:
        return {**super().params(), "regularization": self.regularization, "alpha": self.alpha}

    def _model(self) -> Any:
        from implicit.cpu.als import AlternatingLeastSquares

        return AlternatingLeastSquares(
            factors=self.factors,
            regularization=self.regularization,
            alpha=self.alpha,
            iterations=self.iterations,
            random_state=self.seed,
            num_threads=2,
        )


class Bpr(_Factors):
    name = "bpr"
    GRID = ({}, {"factors": 16, "learning_rate": 0.05})

    def __init__(
        self,
        factors: int = 64,
        iterations: int = 100,
        learning_rate: float = 0.01,
        regularization: float = 0.01,
        seed: int = 42,
    ) -> None:
        super().__init__(factors, iterations, seed)
        self.learning_rate, self.regularization = learning_rate, regularization

    def params(self) -> dict[str, object]:
        return {**super().params(), "learning_rate": self.learning_rate,
                "regularization": self.regularization}  # fmt: skip

    def _model(self) -> Any:
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        return BayesianPersonalizedRanking(
            factors=self.factors,
            learning_rate=self.learning_rate,
            regularization=self.regularization,
            iterations=self.iterations,
            random_state=self.seed,
            num_threads=1,
        )
